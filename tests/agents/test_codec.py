"""State codec round trip."""

from __future__ import annotations

from agents.codec import decode_state, encode_state
from pipeline.core.config import MeterConfig
from pipeline.core.conversation import step_conversation
from tests.factories import transfer, turn


def test_state_round_trips() -> None:
    cfg = MeterConfig()
    state = step_conversation(None, turn("e1", 0, channel="voice"), cfg).state
    state = step_conversation(state, transfer("e2", 3, agent="a-7"), cfg).state
    assert decode_state(encode_state(state)) == state
    assert encode_state(state) == encode_state(decode_state(encode_state(state)))
