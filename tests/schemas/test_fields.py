"""Field validation (SPEC section 1)."""

from __future__ import annotations

import pytest

from schemas.fields import (
    MIN_TIMESTAMP_MS,
    ValidationError,
    format_ms,
    parse_rfc3339_ms,
    req_timestamp,
)

NOW = 1_764_158_400_000  # 2025-11-26T12:00:00Z


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-11-26T12:00:00.250Z", NOW + 250),
        ("2025-11-26T12:00:00Z", NOW),
        ("2025-11-26t12:00:00z", NOW),
        ("2025-11-26T17:30:00+05:30", NOW),
        ("2025-11-26T07:00:00-05:00", NOW),
        ("2025-11-26T12:00:00.123456789Z", NOW + 123),
        ("2025-11-26 12:00:00Z", NOW),
    ],
)
def test_rfc3339_parses_to_utc_milliseconds(text: str, expected: int) -> None:
    assert parse_rfc3339_ms("occurred_at", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2025-11-26T12:00:00",  # no zone
        "2025-11-26",
        "20251126T120000Z",
        "1764158400000",
        "2025-13-26T12:00:00Z",
        "yesterday",
    ],
)
def test_rfc3339_rejects_other_forms(text: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_rfc3339_ms("occurred_at", text)
    assert info.value.code == "bad_timestamp"
    assert info.value.field == "occurred_at"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (1.5e12, "wrong_type"),
        (True, "wrong_type"),
        ("1764158400000", "bad_timestamp"),
        (MIN_TIMESTAMP_MS - 1, "timestamp_too_old"),
        ("1999-12-31T23:59:59.999Z", "timestamp_too_old"),
        (NOW + 24 * 3_600_000 + 1, "timestamp_in_future"),
        (None, "null_field"),
    ],
)
def test_timestamp_rules(value: object, code: str) -> None:
    with pytest.raises(ValidationError) as info:
        req_timestamp({"occurred_at": value}, "occurred_at", NOW)
    assert info.value.code == code
    assert info.value.reason.startswith("field 'occurred_at': ")


def test_timestamp_bounds_are_inclusive() -> None:
    assert req_timestamp({"t": MIN_TIMESTAMP_MS}, "t", NOW) == MIN_TIMESTAMP_MS
    assert req_timestamp({"t": NOW + 24 * 3_600_000}, "t", NOW) == NOW + 24 * 3_600_000


def test_format_ms_round_trips() -> None:
    for ms in (NOW, NOW + 1, NOW + 999, MIN_TIMESTAMP_MS):
        assert parse_rfc3339_ms("t", format_ms(ms)) == ms
    assert format_ms(NOW + 250) == "2025-11-26T12:00:00.250Z"
