"""Report SQL compared as strings."""

from __future__ import annotations

from sinks.clickhouse.queries import apps_query, usage_query


def test_per_app_query_on_its_own_rollup() -> None:
    assert usage_query("billing", by="day", source="day", app_filter=False, sum_apps=False) == (
        "SELECT p, a, u, v, al, ag FROM (SELECT period AS p, app_id AS a, "
        "uniqExactMerge(usage_sessions) AS u, uniqExactMerge(voice_sessions) AS v, "
        "uniqExactMerge(alert_sessions) AS al, uniqExactMerge(agents) AS ag "
        "FROM billing.usage_daily WHERE period >= {start:DateTime('UTC')} "
        "AND period < {end:DateTime('UTC')} GROUP BY p, a) "
        "WHERE u + v + al + ag > 0 ORDER BY p, a"
    )


def test_all_apps_regrouped_from_hours_with_app_filter() -> None:
    sql = usage_query("b", by="week", source="hour", app_filter=True, sum_apps=True)
    assert "SELECT toDateTime(toMonday(period), 'UTC') AS p, '*' AS a," in sql
    assert (
        "FROM b.usage_hourly WHERE period >= {start:DateTime('UTC')} "
        "AND period < {end:DateTime('UTC')} AND app_id = {app:String} GROUP BY p, a" in sql
    )


def test_apps_query() -> None:
    assert apps_query("b") == "SELECT DISTINCT app_id FROM b.usage_monthly ORDER BY app_id"
