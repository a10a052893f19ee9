"""Serialization of the core's state for Faust tables (changelog values)."""

from __future__ import annotations

import orjson

from pipeline.core.conversation import ConversationState


def encode_state(state: ConversationState) -> bytes:
    """A conversation state as a compact JSON array (the set sorted, for stable bytes)."""
    return orjson.dumps([*state[:-1], sorted(state.agents_in_hour)])


def decode_state(raw: bytes) -> ConversationState:
    """Inverse of :func:`encode_state`."""
    *fields, agents_in_hour = orjson.loads(raw)
    return ConversationState._make([*fields, frozenset(agents_in_hour)])
