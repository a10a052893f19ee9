"""The changelog of a partition's state (compacted topic ``billing-meter-state``).

One record per conversation (its state and the event ids it saw together, so a
conversation is never half written), one per remembered alert delivery, and one
``stream`` record with the partition's stream times. They are written in the same
transaction as the outputs and the consumed offsets (:mod:`agents.kafka`), so the
state read back on restore is exactly the state as of the committed offsets.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec
import orjson

from agents.kafka.records import Output
from pipeline.core.conversation import ConversationState
from pipeline.core.state import PartitionState

TOPIC = "billing-meter-state"
STREAM_KEY = b"s"
CONVERSATION = b"c"
ALERT = b"a"


_ENCODER = msgspec.json.Encoder()
_CONVERSATION = msgspec.json.Decoder(tuple[ConversationState, list[str]])


def encode_conversation(state: ConversationState, seen: set[str]) -> bytes:
    """A conversation's state (a compact array) and the event ids it saw."""
    return _ENCODER.encode((state, list(seen)))


def decode_conversation(raw: bytes) -> tuple[ConversationState, set[str]]:
    """Inverse of :func:`encode_conversation`."""
    state, seen = _CONVERSATION.decode(raw)
    return state, set(seen)


def changes(part: PartitionState, partition: int) -> list[Output]:
    """The changelog records for what changed since the last checkpoint (then resets)."""
    conversations, alerts = part.take_changes()
    out = [
        Output(
            TOPIC,
            STREAM_KEY,
            orjson.dumps([part.conversation_stream_ms, part.alert_stream_ms]),
            None,
            partition,
        )
    ]
    for key in conversations:
        state = part.conversations.get(key)
        value = None if state is None else encode_conversation(state, part.seen[key])
        out.append(Output(TOPIC, CONVERSATION + key.encode(), value, None, partition))
    for key in alerts:
        seen_at = part.alerts.get(key)
        value = None if seen_at is None else orjson.dumps(seen_at)
        out.append(Output(TOPIC, ALERT + key.encode(), value, None, partition))
    return out


def restore(records: Iterable[tuple[bytes, bytes | None]]) -> PartitionState:
    """A partition's state from its changelog records, oldest first."""
    part = PartitionState(track_changes=True)
    for key, value in records:
        kind, name = key[:1], key[1:].decode()
        if kind == STREAM_KEY and value is not None:
            part.conversation_stream_ms, part.alert_stream_ms = orjson.loads(value)
        elif kind == CONVERSATION:
            if value is None:
                part.conversations.pop(name, None)
                part.seen.pop(name, None)
            else:
                part.conversations[name], part.seen[name] = decode_conversation(value)
        elif kind == ALERT:
            if value is None:
                part.alerts.pop(name, None)
            else:
                part.alerts[name] = orjson.loads(value)
    return part
