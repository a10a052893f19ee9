"""The changelog of a partition's state (compacted topic ``billing-meter-state``).

Written in the same transaction as the outputs and the consumed offsets
(:mod:`agents.kafka`), so the state read back on restore is exactly the state as of
the committed offsets. What a checkpoint writes grows with what changed, not with
what is held: a conversation's records are keyed by a 128-bit digest of its key,

- ``C`` + digest: its clocks and counters, and the ids it saw since its last full
  chunk, rewritten at each checkpoint it changed in (about 45 bytes and 8 an id);
- ``D`` + digest + chunk number: the full chunks of :data:`CHUNK` id digests, in blocks
  of 1, 4 or 16 chunks keyed by their first chunk (:func:`layout`). A completed chunk is
  written alone; four singles are rewritten as one block of 4 under the first one's key
  and the other three keys deleted, four blocks of 4 as one of 16. Each id is thus
  written at most three times (O(1) bytes an event), and a conversation of 80 events
  restores from 5 records instead of 11. Who the conversation is (app and conversation
  id) rides in the block at chunk 0, and in the ``C`` record until there is one: a short
  conversation is one record;

plus one record per remembered alert delivery (``a`` + key) and one ``s`` record
with the stream times. An event therefore adds O(1) bytes, however long its
conversation. Freeing a conversation writes tombstones for all of its keys.
Records of the earlier format (``c`` + key: state and every id, rewritten on each
change) are read on restore and replaced at the next checkpoint.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable
from hashlib import blake2b
from typing import TypeVar

import msgspec
import orjson

from agents.kafka.records import Output
from pipeline.core.conversation import ConversationState
from pipeline.core.meter import KEY_SEPARATOR
from pipeline.core.state import PartitionState, SeenIds, event_digest

TOPIC = "billing-meter-state"
STREAM_KEY = b"s"
ALERT = b"a"
CLOCKS, CHUNK_KEY = b"C", b"D"
LEGACY = b"c"  # the earlier format: one record with the state and every id
CHUNK = 8  # ids a full chunk holds
BLOCK_BYTES = CHUNK * 8  # bytes of one chunk's id digests

_ENCODE = msgspec.msgpack.Encoder().encode
_DECODE = msgspec.msgpack.Decoder().decode
_LEGACY = msgspec.json.Decoder(tuple[ConversationState, list[str]])
_SWAP = sys.byteorder != "little"  # chunks are little-endian on every machine
T = TypeVar("T")
_INDEX = [i.to_bytes(4, "big") for i in range(1024)]  # the keys' chunk numbers, made once


def key_digest(key: str) -> bytes:
    """A conversation's 128-bit changelog key digest (collisions: see README, State)."""
    return blake2b(key.encode(), digest_size=16).digest()


def _index(chunk: int) -> bytes:
    return chunk.to_bytes(4, "big")


def _key_index(chunk: int) -> bytes:
    return _INDEX[chunk] if chunk < len(_INDEX) else _index(chunk)


BLOCKS = (16, 4, 1)  # chunks a block may hold, largest first


def layout(closed: int) -> list[tuple[int, int]]:
    """The blocks (first chunk, chunks) that hold ``closed`` full chunks: greedily the
    largest sizes first, so the layout of n + 1 chunks differs from that of n only in
    the last blocks (the merges)."""
    blocks, start = [], 0
    for size in BLOCKS:
        while closed - start >= size:
            blocks.append((start, size))
            start += size
    return blocks


def _ids_bytes(ids: SeenIds) -> bytes:
    if _SWAP:
        ids = array("Q", ids)
        ids.byteswap()
    return ids.tobytes()


def _ids_of(raw: bytes) -> SeenIds:
    ids = array("Q")
    ids.frombytes(raw)
    if _SWAP:
        ids.byteswap()
    return ids


def _clocks(state: ConversationState, ids: SeenIds, closed: int) -> bytes:
    """The mutable part, times as small offsets: the interaction clock is the time since
    the segment started and the bot's the interaction less the agent's, so both are
    written as their (usually 0) differences from those."""
    started, since = state.started_ms, state.last_ms - state.started_ms
    quarter = None if state.agent_quarter_ms < 0 else state.agent_quarter_ms - started
    flags = state.on_agent | state.ended << 1 | state.reported << 2
    return _ENCODE(
        (
            state.channel,
            state.segment,
            started,
            since,
            state.elapsed_ms - since,
            state.elapsed_ms - state.bot_ms,
            flags,
            state.usage_slices,
            state.voice_slices,
            quarter,
            sorted(state.agents_in_quarter),
            closed,
            _ids_bytes(ids[closed * CHUNK :]),
            *(() if closed else (state.app_id, state.conversation_id)),
        )
    )


def changes(part: PartitionState, partition: int) -> list[Output]:
    """The changelog records for what changed since the last checkpoint (then resets)."""
    persisted, forgotten, alerts = part.take_changes()
    stream = orjson.dumps([part.conversation_stream_ms, part.alert_stream_ms])
    out = [Output(TOPIC, STREAM_KEY, stream, None, partition)]
    for key, persisted_ids in persisted.items():
        digest = key_digest(key)
        before = persisted_ids
        if key in forgotten:
            out += _tombstones(digest, before, partition)
            before = 0
        if key in part.legacy:
            part.legacy.discard(key)
            out.append(Output(TOPIC, LEGACY + key.encode(), None, None, partition))
        state = part.conversations.get(key)
        if state is not None:
            out += _conversation(digest, state, part.seen[key], before, partition)
    for key in alerts:
        seen_at = part.alerts.get(key)
        value = None if seen_at is None else orjson.dumps(seen_at)
        out.append(Output(TOPIC, ALERT + key.encode(), value, None, partition))
    return out


def _conversation(
    digest: bytes, state: ConversationState, ids: SeenIds, before: int, partition: int
) -> list[Output]:
    """A conversation's records, given that the changelog held ``before`` of its ids."""
    out = []
    closed = len(ids) // CHUNK
    held, now = set(layout(before // CHUNK)), layout(closed)
    for start, size in now:
        if (start, size) in held:
            continue
        part = _ids_bytes(ids[start * CHUNK : (start + size) * CHUNK])
        value = _ENCODE((part, state.app_id, state.conversation_id)) if start == 0 else part
        out.append(Output(TOPIC, CHUNK_KEY + digest + _index(start), value, None, partition))
    starts = {start for start, _ in now}
    for start, _ in sorted(held):
        if start not in starts:  # merged into a block that starts before it
            out.append(Output(TOPIC, CHUNK_KEY + digest + _index(start), None, None, partition))
    out.append(Output(TOPIC, CLOCKS + digest, _clocks(state, ids, closed), None, partition))
    return out


def _tombstones(digest: bytes, before: int, partition: int) -> list[Output]:
    keys = [CLOCKS + digest]
    keys += [CHUNK_KEY + digest + _index(c) for c in range(before // CHUNK)]
    return [Output(TOPIC, key, None, None, partition) for key in keys]


class Restorer:
    """A partition's state from its changelog records, fed oldest first."""

    def __init__(self) -> None:
        self.stream = [0, 0]
        self.clocks: dict[bytes, bytes] = {}
        self.chunks: dict[bytes, bytes] = {}
        self.alerts: dict[str, int] = {}
        self.legacy: dict[str, bytes] = {}
        self.tables = {
            CLOCKS[0]: self.clocks,
            CHUNK_KEY[0]: self.chunks,
        }

    def add(self, key: bytes, value: bytes | None) -> None:
        """Take one record (a tombstone deletes)."""
        table = self.tables.get(key[0])
        if table is not None:
            if value is None:
                table.pop(key[1:], None)
            else:
                table[key[1:]] = value
        elif key == STREAM_KEY and value is not None:
            self.stream = orjson.loads(value)
        elif key[:1] == ALERT:
            self._set(self.alerts, key[1:].decode(), None if value is None else orjson.loads(value))
        elif key[:1] == LEGACY:
            self._set(self.legacy, key[1:].decode(), value)

    @staticmethod
    def _set(table: dict[str, T], name: str, value: T | None) -> None:
        if value is None:
            table.pop(name, None)
        else:
            table[name] = value

    def finish(self) -> PartitionState:
        """The restored state, tracking changes from here on."""
        part = PartitionState(track_changes=True, alerts=self.alerts)
        part.conversation_stream_ms, part.alert_stream_ms = self.stream
        for name, value in self.legacy.items():
            state, event_ids = _LEGACY.decode(value)
            part.conversations[name] = state
            part.seen[name] = array("Q", map(event_digest, event_ids))
            part.persisted[name] = 0  # rewritten in this format at the next checkpoint
            part.legacy.add(name)
        for digest, raw in self.clocks.items():
            state, ids = self._conversation(digest, raw)
            key = f"{state.app_id}{KEY_SEPARATOR}{state.conversation_id}"
            part.conversations[key], part.seen[key] = state, ids
        return part

    def _conversation(self, digest: bytes, raw: bytes) -> tuple[ConversationState, SeenIds]:
        (channel, segment, started, since, elapsed_more, agent_ms, flags, usage, voice, quarter,
         agents, closed, tail, *who) = _DECODE(raw)  # fmt: skip
        if closed:
            tail, who = self._chunks(digest, closed, tail)
        app_id, conversation_id = who
        ids = _ids_of(tail)
        elapsed = since + elapsed_more
        state = ConversationState(
            app_id,
            conversation_id,
            channel,
            segment,
            started,
            started + since,
            elapsed - agent_ms,
            elapsed,
            bool(flags & 1),
            usage,
            voice,
            bool(flags & 2),
            bool(flags & 4),
            -1 if quarter is None else started + quarter,
            frozenset(agents),
        )
        return state, ids

    def _chunks(self, digest: bytes, closed: int, tail: bytes) -> tuple[bytes, list[str]]:
        """The ids of the ``closed`` full chunks then ``tail``, and who the conversation is.
        Blocks are walked by their lengths, so chunks written one a key by the previous
        release and blocks written since read alike."""
        chunks = self.chunks
        first, *who = _DECODE(chunks[digest + _INDEX[0]])
        parts, raw, start = [], first, 0
        while True:
            step = len(raw) // BLOCK_BYTES
            if not step:
                raise ValueError(f"changelog chunk {start} of {digest.hex()} is short")
            parts.append(raw)
            start += step
            if start >= closed:
                break
            raw = chunks[digest + _key_index(start)]
        parts.append(tail)
        return b"".join(parts), who


def restorer_of(records: Iterable[tuple[bytes, bytes | None]]) -> Restorer:
    """A restorer fed ``records``, oldest first."""
    restorer = Restorer()
    for key, value in records:
        restorer.add(key, value)
    return restorer


def restore(records: Iterable[tuple[bytes, bytes | None]]) -> PartitionState:
    """A partition's state from its changelog records, oldest first."""
    return restorer_of(records).finish()
