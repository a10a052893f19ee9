"""The meter's own records round-trip through their topic encodings."""

from __future__ import annotations

import orjson
import pytest

from schemas import agent_activity, billing_session, conversation_summary, dead_letter
from schemas.fields import ValidationError


def test_session_round_trip_and_ids() -> None:
    session = billing_session.BillingSession(
        billing_session.conversation_session_id("a", "c", 2, 1_764_158_400_000, "voice", 3),
        "voice",
        "a",
        "c",
        2,
        3,
        "voice",
        1_764_158_400_250,
    )
    assert session.session_id == "a/c/2@1764158400000/voice/3"
    assert billing_session.alert_session_id("a", "d-9") == "a/alert/d-9"
    assert billing_session.decode(billing_session.encode(session)) == session
    assert orjson.loads(billing_session.encode(session))["opened_at"] == "2025-11-26T12:00:00.250Z"


def test_session_rejects_unknown_kind() -> None:
    raw = orjson.loads(
        billing_session.encode(
            billing_session.BillingSession("x", "usage", "a", "c", 0, 0, "web", 1)
        )
    )
    raw["kind"] = "video"
    with pytest.raises(ValidationError):
        billing_session.decode(orjson.dumps(raw))


def test_other_records_round_trip() -> None:
    activity = agent_activity.AgentActivity("a", "agent-1", 1_764_158_400_000)
    assert agent_activity.decode(agent_activity.encode(activity)) == activity
    summary = conversation_summary.ConversationSummary(
        "a", "c", 1, "voice", 1, 2, 3, 4, 7, 1, 2, "idle"
    )
    assert conversation_summary.decode(conversation_summary.encode(summary)) == summary


@pytest.mark.parametrize("raw", [b"not json", b"\xff\x00binary"])
def test_dead_letter_keeps_original_bytes(raw: bytes) -> None:
    error = ValidationError(None, "invalid_json", "not valid JSON")
    letter = dead_letter.DeadLetter.from_error(
        error, source="kafka", topic="t", partition=3, offset=42, raw=raw
    )
    decoded = dead_letter.decode(dead_letter.encode(letter))
    assert decoded == letter
    assert decoded.raw == raw
