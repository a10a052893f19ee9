"""Periods in any zone, plan changes, status and notification rules (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.periods import DAY_MS, ZoneError, add_days, midnight_ms, period_at, periods_between
from billing.rules import (
    Standing,
    Terms,
    balance_notification,
    charges,
    expiry_notice,
    is_upgrade,
    standing,
    upgrade_proration,
)


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def test_zone_boundary_splits_ist_days_and_months() -> None:
    before, after = ms("2026-11-30T18:29:59.999+00:00"), ms("2026-11-30T18:30:00+00:00")
    assert period_at(before, "Asia/Kolkata") != period_at(after, "Asia/Kolkata")
    assert period_at(after, "Asia/Kolkata").start_ms == after  # December 1st, 00:00 IST
    assert period_at(before, "UTC") == period_at(after, "UTC")  # both November in UTC


def test_kathmandu_months_start_at_plus_0545() -> None:
    period = period_at(ms("2026-12-15T00:00:00+00:00"), "Asia/Kathmandu")
    assert period.start_ms == ms("2026-12-01T00:00:00+05:45")
    assert period.end_ms == ms("2027-01-01T00:00:00+05:45")


def test_a_dst_month_is_an_hour_short() -> None:
    march = period_at(ms("2026-03-15T12:00:00+00:00"), "America/New_York")
    assert march.seconds == 31 * 86400 - 3600


def test_unknown_zone() -> None:
    with pytest.raises(ZoneError):
        period_at(0, "Mars/Olympus")


@given(
    start=st.integers(ms("2000-01-01T00:00:00+00:00"), ms("2040-01-01T00:00:00+00:00")),
    length=st.integers(1, 800 * DAY_MS),
    tz=st.sampled_from(
        ["UTC", "Asia/Kolkata", "Asia/Kathmandu", "America/New_York", "Pacific/Chatham"]
    ),
)
def test_periods_tile_any_range(start: int, length: int, tz: str) -> None:
    periods = periods_between(start, start + length, tz)
    assert periods[0].start_ms <= start < periods[0].end_ms
    assert periods[-1].start_ms < start + length <= periods[-1].end_ms
    for earlier, later in pairwise(periods):
        assert earlier.end_ms == later.start_ms
    for period in periods:
        local = datetime.fromtimestamp(period.start_ms / 1000, tz=UTC).astimezone(ZoneInfo(tz))
        assert (local.day, local.hour, local.minute) == (1, 0, 0)


def test_add_days_keeps_local_midnight() -> None:
    start = midnight_ms(date(2026, 3, 1), "America/New_York")
    assert add_days(start, 30, "America/New_York") == midnight_ms(
        date(2026, 3, 31), "America/New_York"
    )


STARTER = Terms("USD", "prepaid", 4900, {"billing_sessions": 1000}, {"billing_sessions": 50_000})
PRO = Terms("USD", "prepaid", 9900, {"billing_sessions": 5000}, {"billing_sessions": 40_000})


def test_charges_per_meter() -> None:
    assert charges(STARTER, {"billing_sessions": 1200, "voice_sessions": 9}) == {
        "billing_sessions": 1000,  # 200 x 0.05
        "voice_sessions": 0,
        "agents": 0,
    }


def test_upgrade_is_a_higher_fee_and_prorates_the_rest_of_the_period() -> None:
    assert is_upgrade(STARTER, PRO) and not is_upgrade(PRO, STARTER)
    november = period_at(ms("2026-11-15T00:00:00+00:00"), "UTC")
    halfway = ms("2026-11-16T00:00:00+00:00")
    assert upgrade_proration(STARTER, PRO, november, halfway) == 2500  # 50.00 x 15/30


@pytest.mark.parametrize(
    ("before", "after", "kind"),
    [
        ("ok", "low", "balance.low"),
        ("ok", "depleted", "balance.depleted"),
        ("low", "depleted", "balance.depleted"),
        ("depleted", "ok", "balance.recovered"),
        ("low", "ok", "balance.recovered"),
        ("depleted", "low", None),
        ("low", "low", None),
    ],
)
def test_balance_notifications(before: str, after: str, kind: str | None) -> None:
    assert balance_notification(before, after) == kind  # type: ignore[arg-type]


def test_expiry_notices_pick_the_nearest_threshold() -> None:
    ends = ms("2026-12-20T00:00:00+00:00")
    assert expiry_notice(ends, ends - 8 * DAY_MS) is None
    assert expiry_notice(ends, ends - 7 * DAY_MS) == ("plan.expiring", 7)
    assert expiry_notice(ends, ends - 2 * DAY_MS) == ("plan.expiring", 3)
    assert expiry_notice(ends, ends - 1) == ("plan.expiring", 1)
    assert expiry_notice(ends, ends) == ("plan.expired", 0)
    assert expiry_notice(None, ends) is None


def test_standing_orders_status_and_lists_every_notice() -> None:
    ends = ms("2026-12-20T00:00:00+00:00")
    state = standing(
        kind="prepaid",
        balance_minor=-1,
        threshold_minor=980,
        ends_at_ms=ends,
        now_ms=ends - DAY_MS,
        downgrade_scheduled=True,
    )
    assert state.status == "depleted"
    assert state.notices == ("expiring", "depleted", "downgrade scheduled")
    assert (
        standing(
            kind="enterprise",
            balance_minor=-(10**6),
            threshold_minor=0,
            ends_at_ms=None,
            now_ms=0,
            downgrade_scheduled=False,
        ).status
        == "active"
    )
    assert standing(
        kind="prepaid",
        balance_minor=500,
        threshold_minor=980,
        ends_at_ms=ends,
        now_ms=ends,
        downgrade_scheduled=False,
    ).notices == ("expired", "low")


@given(
    before=st.integers(1, 400 * DAY_MS),
    balance_minor=st.integers(-(10**9), 10**9),
    kind=st.sampled_from(["prepaid", "enterprise"]),
)
def test_before_its_start_a_subscription_is_only_scheduled(
    before: int, balance_minor: int, kind: str
) -> None:
    starts = ms("2027-03-01T00:00:00+00:00")
    common: dict[str, Any] = {
        "kind": kind,
        "balance_minor": balance_minor,
        "threshold_minor": 980,
        "ends_at_ms": starts + 30 * DAY_MS,
        "downgrade_scheduled": False,
        "starts_at_ms": starts,
    }
    assert standing(now_ms=starts - before, **common) == Standing("scheduled", ("scheduled",))
    at_start = standing(now_ms=starts, **common)
    assert at_start.status != "scheduled" and "scheduled" not in at_start.notices
