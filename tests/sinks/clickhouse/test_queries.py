"""Report SQL compared as strings."""

from __future__ import annotations

from datetime import date

import pytest

from sinks.clickhouse.queries import (
    agent_cut,
    agents_query,
    apps_query,
    check_zone,
    period_of,
    sessions_query,
)


@pytest.mark.parametrize(
    ("by", "expr"),
    [
        ("hour", "toStartOfHour(x, 'Asia/Kolkata')"),
        ("day", "toStartOfDay(x, 'Asia/Kolkata')"),
        ("week", "toDateTime(toMonday(x, 'Asia/Kolkata'), 'Asia/Kolkata')"),
        ("month", "toDateTime(toStartOfMonth(x, 'Asia/Kolkata'), 'Asia/Kolkata')"),
    ],
)
def test_periods_are_the_zones(by: str, expr: str) -> None:
    assert period_of(by, "x", "Asia/Kolkata") == expr


def test_sessions_sum_quarter_hours_of_the_deduplicated_counts() -> None:
    sql = sessions_query("b", by="day", tz="UTC", app_filter=True, sum_apps=True)
    assert sql == (
        "SELECT toStartOfDay(quarter, 'UTC') AS p, '*' AS a, sum(usage), sum(voice), sum(alert) "
        "FROM b.session_counts FINAL WHERE quarter >= {start:DateTime('UTC')} "
        "AND quarter < {end:DateTime('UTC')} AND app_id IN {apps:Array(String)} GROUP BY p, a"
    )
    every_app = sessions_query("b", by="month", tz="UTC", app_filter=False, sum_apps=False)
    assert every_app.endswith("GROUP BY p, a SETTINGS optimize_aggregation_in_order = 1")


def test_agents_split_each_days_mask_at_the_zones_boundary() -> None:
    sql = agents_query("b", by="month", tz="Asia/Kathmandu", app_filter=False, sum_apps=False)
    assert "bitAnd(mask, multiIf(day = {first_day:Date}, {head:UInt128}" in sql
    assert "if(pa = pb, 96, intDiv(toUInt32(pb) - toUInt32(d0), 900)) AS k" in sql
    assert sql.endswith(
        "FROM b.agent_days ARRAY JOIN [(pa, bitAnd(m, bitShiftLeft(toUInt128(1), k) - 1)), "
        "(pb, bitShiftRight(m, k))] AS part WHERE day >= {first_day:Date} "
        "AND day <= {last_day:Date} AND part.2 != 0 GROUP BY p, a"
    )
    assert "(SELECT" not in sql  # one flat SELECT: planning is most of its cost
    hourly = agents_query("b", by="hour", tz="UTC", app_filter=False, sum_apps=True)
    assert "ARRAY JOIN arrayFilter(i -> bitAnd(m, bitShiftLeft(toUInt128(1), i)) != 0" in hourly


DAY, QUARTER = 86_400_000, 900_000


@pytest.mark.parametrize(
    ("span", "first", "head_bits", "last", "tail_bits"),
    [
        ((0, DAY), 0, range(96), 0, range(96)),  # one whole day
        ((0, 3 * DAY), 0, range(96), 2, range(96)),
        ((QUARTER, DAY - QUARTER), 0, range(1, 95), 0, range(1, 95)),
        ((QUARTER + 1, 2 * DAY + 1), 0, range(2, 96), 2, range(1)),  # quarters starting in it
        ((DAY - 1, DAY + QUARTER), 0, range(0), 1, range(1)),
    ],
)
def test_agent_cut_keeps_the_quarter_hours_that_start_in_the_range(
    span: tuple[int, int], first: int, head_bits: range, last: int, tail_bits: range
) -> None:
    cut = agent_cut(*span)
    assert (cut["first_day"] - date(1970, 1, 1)).days == first
    assert (cut["last_day"] - date(1970, 1, 1)).days == last
    assert cut["head"] == sum(1 << b for b in head_bits)
    assert cut["tail"] == sum(1 << b for b in tail_bits)


@pytest.mark.parametrize("tz", ["Mars/Olympus", "UTC'; DROP", "", "Asia/Kolkata/"])
def test_zones_are_checked_before_they_reach_sql(tz: str) -> None:
    with pytest.raises(ValueError, match="IANA"):
        check_zone(tz)


def test_apps_query() -> None:
    assert apps_query("b").startswith("SELECT app_id FROM (SELECT DISTINCT app_id FROM b.")
