"""Report SQL, built by pure functions (tested as strings). Values go in as bound parameters."""

from __future__ import annotations

from sinks.clickhouse.ddl import ROLLUP_TABLES, check_identifier, period_expr


def usage_query(db: str, *, by: str, source: str, app_filter: bool, sum_apps: bool) -> str:
    """Per period (and app), distinct sessions by kind and distinct agents.

    ``source`` is the rollup granularity read (``by`` itself when the range is
    aligned to it, else ``hour``, regrouped to ``by``). Parameters: ``start``
    and ``end`` (``DateTime``, end exclusive) and, with ``app_filter``, ``app``.
    Rows with no activity are left out.
    """
    db = check_identifier(db)
    table = ROLLUP_TABLES[source]
    period = "period" if source == by else period_expr(by, "period")
    app_col = "'*'" if sum_apps else "app_id"
    where = "period >= {start:DateTime('UTC')} AND period < {end:DateTime('UTC')}"
    if app_filter:
        where += " AND app_id = {app:String}"
    return (
        f"SELECT p, a, u, v, al, ag FROM (SELECT {period} AS p, {app_col} AS a, "
        "uniqExactMerge(usage_sessions) AS u, uniqExactMerge(voice_sessions) AS v, "
        "uniqExactMerge(alert_sessions) AS al, uniqExactMerge(agents) AS ag "
        f"FROM {db}.{table} WHERE {where} GROUP BY p, a) "
        "WHERE u + v + al + ag > 0 ORDER BY p, a"
    )


def apps_query(db: str) -> str:
    """Every app id with any activity, sorted."""
    db = check_identifier(db)
    return f"SELECT DISTINCT app_id FROM {db}.usage_monthly ORDER BY app_id"
