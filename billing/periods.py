"""Billing periods: calendar months in a subscription's IANA zone (BILLING-SPEC §3).

Instants are epoch milliseconds (UTC), as everywhere in billing-meter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


class ZoneError(ValueError):
    """Not an IANA time-zone name."""


@cache
def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; ``ZoneError`` otherwise."""
    if name != "UTC" and name not in _names():
        raise ZoneError(f"{name!r} is not an IANA time zone (e.g. UTC, Asia/Kolkata)")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ZoneError(f"{name!r} is not an IANA time zone (e.g. UTC, Asia/Kolkata)") from None


@cache
def _names() -> frozenset[str]:
    return frozenset(available_timezones())


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """One month ``[start_ms, end_ms)`` of a zone."""

    start_ms: int
    end_ms: int

    @property
    def seconds(self) -> int:
        """Its length in seconds (28-31 days, +-1 h across a DST change)."""
        return (self.end_ms - self.start_ms) // 1000


def midnight_ms(day: date, tz: str) -> int:
    """The instant ``day`` begins in ``tz``."""
    local = datetime(day.year, day.month, day.day, tzinfo=zone(tz))
    return int(local.astimezone(UTC).timestamp() * 1000)


def local_date(ms: int, tz: str) -> date:
    """The calendar date in ``tz`` at the instant ``ms``."""
    return datetime.fromtimestamp(ms / 1000, tz=zone(tz)).date()


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def period_at(ms: int, tz: str) -> Period:
    """The month of ``tz`` holding the instant ``ms``."""
    first = _month_start(local_date(ms, tz))
    return Period(midnight_ms(first, tz), midnight_ms(_next_month(first), tz))


def periods_between(start_ms: int, end_ms: int, tz: str) -> list[Period]:
    """The months of ``tz`` that meet ``[start_ms, end_ms)``, in order."""
    periods: list[Period] = []
    if end_ms <= start_ms:
        return periods
    period = period_at(start_ms, tz)
    while period.start_ms < end_ms:
        periods.append(period)
        period = period_at(period.end_ms, tz)
    return periods


def add_days(ms: int, days: int, tz: str) -> int:
    """``ms`` moved by ``days`` calendar days in ``tz`` (same local time of day)."""
    local = datetime.fromtimestamp(ms / 1000, tz=zone(tz))
    moved = datetime.combine(local.date() + timedelta(days=days), local.time(), zone(tz))
    return int(moved.astimezone(UTC).timestamp() * 1000)


def iso(ms: int, tz: str = "UTC") -> str:
    """ISO 8601 with the zone's offset (``2026-12-01T00:00:00+05:30``)."""
    text = datetime.fromtimestamp(ms / 1000, tz=zone(tz)).isoformat(timespec="seconds")
    return text.replace("+00:00", "Z") if tz == "UTC" else text
