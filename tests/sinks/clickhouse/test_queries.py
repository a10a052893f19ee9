"""Report SQL compared as strings."""

from __future__ import annotations

import pytest

from sinks.clickhouse.queries import agents_query, apps_query, check_zone, period_of, sessions_query


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
        "AND quarter < {end:DateTime('UTC')} AND app_id IN {apps:Array(String)} GROUP BY p, a "
        "SETTINGS optimize_aggregation_in_order = 1"
    )


def test_agents_split_each_days_mask_at_the_zones_boundary() -> None:
    sql = agents_query("b", by="month", tz="Asia/Kathmandu", app_filter=False, sum_apps=False)
    assert "FROM b.agent_days WHERE day >= toDate({start:DateTime('UTC')} - 86400)" in sql
    assert "if(pa = pb, 96, intDiv(toUInt32(pb) - toUInt32(d0), 900)) AS k" in sql
    assert sql.endswith("uniqExact(agent_id) FROM (" + sql.split("uniqExact(agent_id) FROM (")[1])
    hourly = agents_query("b", by="hour", tz="UTC", app_filter=False, sum_apps=True)
    assert "ARRAY JOIN arrayFilter(i -> bitAnd(m, bitShiftLeft(toUInt128(1), i)) != 0" in hourly


@pytest.mark.parametrize("tz", ["Mars/Olympus", "UTC'; DROP", "", "Asia/Kolkata/"])
def test_zones_are_checked_before_they_reach_sql(tz: str) -> None:
    with pytest.raises(ValueError, match="IANA"):
        check_zone(tz)


def test_apps_query() -> None:
    assert apps_query("b").startswith("SELECT app_id FROM (SELECT DISTINCT app_id FROM b.")
