"""Serialization of the meter's state for Faust tables (changelog values).

A conversation's state and the event ids it saw travel in one record, so a
changelog write is atomic per conversation: after a crash, a conversation is
either wholly before or wholly after an event, never half (ids without clocks).
Every record carries the partition it belongs to, so timers can write the
changelog outside stream iteration.
"""

from __future__ import annotations

import base64
from typing import NamedTuple

import orjson

from agents.ordering import Held
from pipeline.core.conversation import ConversationState


class ConversationRecord(NamedTuple):
    """What the meter's ``conversations`` table holds per conversation key."""

    partition: int
    state: ConversationState
    seen: dict[str, int]  # event id -> when it was processed (ms)


def encode_state(state: ConversationState) -> bytes:
    """A conversation state as a compact JSON array (the set sorted, for stable bytes)."""
    return orjson.dumps([*state[:-1], sorted(state.agents_in_hour)])


def decode_state(raw: bytes) -> ConversationState:
    """Inverse of :func:`encode_state`."""
    *fields, agents_in_hour = orjson.loads(raw)
    return ConversationState._make([*fields, frozenset(agents_in_hour)])


def encode_record(record: ConversationRecord) -> bytes:
    """One changelog value for a conversation."""
    state = record.state
    return orjson.dumps(
        [record.partition, [*state[:-1], sorted(state.agents_in_hour)], record.seen]
    )


def decode_record(raw: bytes) -> ConversationRecord:
    """Inverse of :func:`encode_record`."""
    partition, (*fields, agents_in_hour), seen = orjson.loads(raw)
    return ConversationRecord(
        partition, ConversationState._make([*fields, frozenset(agents_in_hour)]), seen
    )


def encode_alert(partition: int, seen_at_ms: int) -> bytes:
    """A remembered alert delivery."""
    return orjson.dumps([partition, seen_at_ms])


def decode_alert(raw: bytes) -> tuple[int, int]:
    """Inverse of :func:`encode_alert`: (partition, seen_at_ms)."""
    partition, seen_at_ms = orjson.loads(raw)
    return partition, seen_at_ms


def held_key(held: Held) -> str:
    """The ``pending`` table key of one held record: partition, topic, offset."""
    return f"{held.partition}\x1f{held.topic}\x1f{held.offset}"


def encode_held(held: Held) -> bytes:
    """One record held in the merge (kept in the ``pending`` table until released)."""
    return orjson.dumps(
        [
            held.ts_ms,
            held.seq,
            held.rank,
            held.offset,
            held.partition,
            held.topic,
            None if held.key is None else base64.b64encode(held.key).decode(),
            base64.b64encode(held.value).decode(),
        ]
    )


def decode_held(raw: bytes, now_s: float) -> Held:
    """Inverse of :func:`encode_held`; the hold clock restarts at ``now_s``."""
    ts, seq, rank, offset, partition, topic, key, value = orjson.loads(raw)
    return Held(
        ts,
        seq,
        rank,
        offset,
        partition,
        topic,
        None if key is None else base64.b64decode(key),
        base64.b64decode(value),
        now_s,
    )
