"""Decoding and validation of the three input topics (SPEC section 1)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from schemas import agent_transfer, alert_delivery, conversation_turn
from schemas.fields import ValidationError

NOW = 1_764_158_400_000
TURN: dict[str, Any] = {
    "event_id": "e1",
    "app_id": "app-1",
    "conversation_id": "c-1",
    "channel": "web",
    "actor": "user",
    "occurred_at": NOW,
}
TRANSFER: dict[str, Any] = {
    "event_id": "e2",
    "app_id": "app-1",
    "conversation_id": "c-1",
    "channel": "web",
    "direction": "to_agent",
    "agent_id": "a-1",
    "occurred_at": "2025-11-26T12:00:00Z",
}
ALERT: dict[str, Any] = {"event_id": "d1", "app_id": "app-1", "alert_id": "r-1", "occurred_at": NOW}


def reject(decode: Any, value: Any) -> ValidationError:
    raw = value if isinstance(value, bytes) else orjson.dumps(value)
    with pytest.raises(ValidationError) as info:
        decode(raw, now_ms=NOW)
    return info.value


def test_valid_turn_with_defaults_and_extra_fields() -> None:
    turn = conversation_turn.decode(orjson.dumps({**TURN, "extra": [1]}), now_ms=NOW)
    assert turn == conversation_turn.ConversationTurn(
        "e1", "app-1", "c-1", "web", "user", None, NOW, ends_conversation=False
    )


def test_turn_round_trips_through_encode() -> None:
    turn = conversation_turn.decode(
        orjson.dumps({**TURN, "ends_conversation": True, "actor": "agent", "agent_id": "a"}),
        now_ms=NOW,
    )
    assert conversation_turn.decode(conversation_turn.encode(turn), now_ms=NOW) == turn


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"event_id": None}, "event_id", "null_field"),
        ({"app_id": ""}, "app_id", "bad_id"),
        ({"conversation_id": "x" * 257}, "conversation_id", "bad_id"),
        ({"channel": "we\nb"}, "channel", "bad_id"),
        ({"channel": "we\x85b"}, "channel", "bad_id"),
        ({"channel": 7}, "channel", "wrong_type"),
        ({"actor": "robot"}, "actor", "bad_enum"),
        ({"actor": "agent"}, "agent_id", "missing_field"),
        ({"ends_conversation": "yes"}, "ends_conversation", "wrong_type"),
        ({"occurred_at": 1.0}, "occurred_at", "wrong_type"),
    ],
)
def test_invalid_turns_name_field_and_reason(change: dict[str, Any], field: str, code: str) -> None:
    error = reject(conversation_turn.decode, {**TURN, **change})
    assert (error.field, error.code) == (field, code)
    assert field in error.reason


def test_missing_required_field() -> None:
    value = dict(TURN)
    del value["channel"]
    error = reject(conversation_turn.decode, value)
    assert (error.field, error.code) == ("channel", "missing_field")


def test_ids_allow_printable_unicode_and_256_chars() -> None:
    turn = conversation_turn.decode(
        orjson.dumps({**TURN, "conversation_id": "é" * 256, "app_id": "a b/ü"}), now_ms=NOW
    )
    assert turn.conversation_id == "é" * 256


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"not json at all", "invalid_json"),
        (b"[1, 2]", "not_an_object"),
        (b'"text"', "not_an_object"),
        (b"", "invalid_json"),
        (b"\xff\xfe", "invalid_json"),
    ],
)
def test_non_objects(raw: bytes, code: str) -> None:
    error = reject(conversation_turn.decode, raw)
    assert error.code == code
    assert error.field is None


def test_transfer_rules() -> None:
    transfer = agent_transfer.decode(orjson.dumps(TRANSFER), now_ms=NOW)
    assert (transfer.direction, transfer.agent_id, transfer.occurred_at_ms) == (
        "to_agent",
        "a-1",
        NOW,
    )
    back = agent_transfer.decode(
        orjson.dumps({**TRANSFER, "direction": "to_bot", "agent_id": None}), now_ms=NOW
    )
    assert back.agent_id is None
    assert reject(agent_transfer.decode, {**TRANSFER, "agent_id": None}).field == "agent_id"
    assert reject(agent_transfer.decode, {**TRANSFER, "direction": "sideways"}).code == "bad_enum"
    assert agent_transfer.decode(agent_transfer.encode(transfer), now_ms=NOW) == transfer


def test_alert_rules() -> None:
    delivery = alert_delivery.decode(orjson.dumps(ALERT), now_ms=NOW)
    assert delivery.user_id is None
    assert alert_delivery.decode(alert_delivery.encode(delivery), now_ms=NOW) == delivery
    assert reject(alert_delivery.decode, {**ALERT, "alert_id": 5}).code == "wrong_type"
    assert reject(alert_delivery.decode, {**ALERT, "user_id": ""}).code == "bad_id"
