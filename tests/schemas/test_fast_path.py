"""The decoders' one-expression fast path agrees with the field-by-field path on any input.

Each topic's ``decode`` tries the common case first and falls back to ``_checked``;
here hypothesis mixes valid values with near misses (wrong types, empty, too long,
control characters, odd timestamps) and compares the two: the same event, or the
same field and reason code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import agent_transfer, alert_delivery, conversation_turn
from schemas.fields import ValidationError, parse_object

NOW = 1_764_158_400_000
# too_slow: the first draw of these one_of strategies can take over a second on a busy machine

IDS = st.one_of(
    st.sampled_from(["e1", "app-1", "c-1", "web", "voice", "a-1", "ü-ñ"]),
    st.sampled_from(["", "x" * 256, "x" * 257, "tab\there", "nul\x00", 7, None, True, [1]]),
    st.text(max_size=4),
)
TIMESTAMPS = st.one_of(
    st.sampled_from(
        [
            NOW,
            "2025-11-26T12:00:00.250Z",
            "2025-11-26T12:00:00Z",
            "2025-11-26T12:00:00.250+01:00",
            "2025-11-26t12:00:00.250z",
            "2025-11-26T25:00:00.250Z",
            "2025-02-30T12:00:00.250Z",
            "2025-W48-3T12:00:00.25Z",
            "2025-11-26T12:00:00,250Z",
            "1999-12-31T23:59:59.999Z",
            "2099-01-01T00:00:00.000Z",
            "٢٠٢٥-11-26T12:00:00.250Z",
            946_684_799_999,
            NOW + 24 * 3_600_000 + 1,
            1.5,
            True,
            None,
        ]
    ),
    st.integers(min_value=900_000_000_000, max_value=NOW + 90_000_000),
)


MISSING = object()


def _near(valid: dict[str, Any], values: dict[str, st.SearchStrategy[Any]]) -> Any:
    """A valid object with up to three fields replaced by other values or removed."""
    names = sorted(values)

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        obj = dict(valid)
        for name in draw(st.lists(st.sampled_from(names), max_size=3, unique=True)):
            value = draw(st.one_of(st.just(MISSING), values[name]))
            if value is MISSING:
                obj.pop(name, None)
            else:
                obj[name] = value
        return obj

    return build()


def _outcome(decode: Callable[..., Any], raw: bytes) -> Any:
    try:
        return decode(raw, now_ms=NOW)
    except ValidationError as error:
        return (error.field, error.code)


def _checked(module: Any, raw: bytes) -> Any:
    try:
        return module._checked(parse_object(raw), NOW)  # the path under test
    except ValidationError as error:
        return (error.field, error.code)


TURNS = _near(
    {
        "event_id": "e1",
        "app_id": "app-1",
        "conversation_id": "c-1",
        "channel": "voice",
        "actor": "agent",
        "agent_id": "a-1",
        "occurred_at": "2025-11-26T12:00:00.250Z",
    },
    {
        "event_id": IDS,
        "app_id": IDS,
        "conversation_id": IDS,
        "channel": IDS,
        "actor": st.sampled_from(["user", "bot", "agent", "robot", 3, None]),
        "agent_id": IDS,
        "occurred_at": TIMESTAMPS,
        "ends_conversation": st.sampled_from([True, False, None, 1, "yes"]),
    },
)
TRANSFERS = _near(
    {
        "event_id": "e2",
        "app_id": "app-1",
        "conversation_id": "c-1",
        "channel": "web",
        "direction": "to_agent",
        "agent_id": "a-1",
        "occurred_at": NOW,
    },
    {
        "event_id": IDS,
        "app_id": IDS,
        "conversation_id": IDS,
        "channel": IDS,
        "direction": st.sampled_from(["to_agent", "to_bot", "sideways", [], None]),
        "agent_id": IDS,
        "occurred_at": TIMESTAMPS,
    },
)
ALERTS = _near(
    {"event_id": "d1", "app_id": "app-1", "alert_id": "r-1", "occurred_at": NOW},
    {
        "event_id": IDS,
        "app_id": IDS,
        "alert_id": IDS,
        "user_id": IDS,
        "occurred_at": TIMESTAMPS,
    },
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TURNS)
def test_turns_fast_path_agrees(obj: dict[str, Any]) -> None:
    raw = orjson.dumps(obj)
    assert _outcome(conversation_turn.decode, raw) == _checked(conversation_turn, raw)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TRANSFERS)
def test_transfers_fast_path_agrees(obj: dict[str, Any]) -> None:
    raw = orjson.dumps(obj)
    assert _outcome(agent_transfer.decode, raw) == _checked(agent_transfer, raw)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ALERTS)
def test_alerts_fast_path_agrees(obj: dict[str, Any]) -> None:
    raw = orjson.dumps(obj)
    assert _outcome(alert_delivery.decode, raw) == _checked(alert_delivery, raw)


def test_the_fast_path_takes_the_canonical_forms() -> None:
    """Not just agreement: the common forms are accepted (the fast path is not dead code)."""
    turn = conversation_turn.decode(
        orjson.dumps(
            {
                "event_id": "e1",
                "app_id": "a",
                "conversation_id": "c",
                "channel": "web",
                "actor": "agent",
                "agent_id": "ag",
                "occurred_at": "2025-11-26T12:00:00.250Z",
            }
        ),
        now_ms=NOW,
    )
    assert turn.occurred_at_ms == 1_764_158_400_250
    assert turn.ends_conversation is False
