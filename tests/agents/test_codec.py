"""Codecs of the Faust table values."""

from __future__ import annotations

from agents.codec import (
    ConversationRecord,
    decode_alert,
    decode_held,
    decode_record,
    decode_state,
    encode_alert,
    encode_held,
    encode_record,
    encode_state,
    held_key,
)
from agents.ordering import Held
from pipeline.core.config import MeterConfig
from pipeline.core.conversation import step_conversation
from tests.factories import transfer, turn


def state():  # type: ignore[no-untyped-def]
    cfg = MeterConfig()
    first = step_conversation(None, turn("e1", 0, channel="voice"), cfg).state
    return step_conversation(first, transfer("e2", 3, agent="a-7"), cfg).state


def test_state_round_trips() -> None:
    assert decode_state(encode_state(state())) == state()


def test_record_round_trips_with_its_seen_ids() -> None:
    record = ConversationRecord(4, state(), {"e1": 1, "e2": 2})
    assert decode_record(encode_record(record)) == record


def test_alert_and_held_round_trip() -> None:
    assert decode_alert(encode_alert(2, 99)) == (2, 99)
    for held in (
        Held(5, 0, 0, 7, 3, "conversation-turns", b"k\xff", b"v\x00", 1.0),
        Held(6, 9, 1, 8, 3, "agent-transfers", None, b"", 1.0),
    ):
        assert decode_held(encode_held(held), now_s=9.0) == held._replace(held_since=9.0)
    assert (
        held_key(Held(6, 9, 1, 8, 3, "agent-transfers", None, b"", 1.0))
        == "3\x1fagent-transfers\x1f8"
    )
