"""DDL built by pure functions, compared as strings."""

from __future__ import annotations

import pytest

from sinks.clickhouse import ddl


def test_rollup_table_ddl() -> None:
    assert ddl.rollup_table("billing", "week") == (
        "CREATE TABLE IF NOT EXISTS billing.usage_weekly (app_id String, "
        "period DateTime('UTC'), "
        "usage_sessions AggregateFunction(uniqExact, String, DateTime64(3, 'UTC')), "
        "voice_sessions AggregateFunction(uniqExact, String, DateTime64(3, 'UTC')), "
        "alert_sessions AggregateFunction(uniqExact, String, DateTime64(3, 'UTC')), "
        "agents AggregateFunction(uniqExact, String)) "
        "ENGINE = AggregatingMergeTree ORDER BY (app_id, period)"
    )


def test_rollup_views_ddl() -> None:
    sessions_mv, agents_mv = ddl.rollup_views("b", "month")
    assert sessions_mv == (
        "CREATE MATERIALIZED VIEW IF NOT EXISTS b.usage_monthly_sessions_mv TO b.usage_monthly "
        "AS SELECT app_id, toDateTime(toStartOfMonth(opened_at), 'UTC') AS period, "
        "uniqExactIfState(session_id, opened_at, kind = 'usage') AS usage_sessions, "
        "uniqExactIfState(session_id, opened_at, kind = 'voice') AS voice_sessions, "
        "uniqExactIfState(session_id, opened_at, kind = 'alert') AS alert_sessions "
        "FROM b.sessions GROUP BY app_id, period"
    )
    assert agents_mv == (
        "CREATE MATERIALIZED VIEW IF NOT EXISTS b.usage_monthly_agents_mv TO b.usage_monthly "
        "AS SELECT app_id, toDateTime(toStartOfMonth(hour), 'UTC') AS period, "
        "uniqExactState(agent_id) AS agents FROM b.agent_activity GROUP BY app_id, period"
    )


@pytest.mark.parametrize(
    ("granularity", "expr"),
    [
        ("hour", "toStartOfHour(x)"),
        ("day", "toStartOfDay(x)"),
        ("week", "toDateTime(toMonday(x), 'UTC')"),
        ("month", "toDateTime(toStartOfMonth(x), 'UTC')"),
    ],
)
def test_period_expressions(granularity: str, expr: str) -> None:
    assert ddl.period_expr(granularity, "x") == expr


def test_sessions_table_is_replacing_and_keyed_by_identity() -> None:
    sessions = ddl.raw_tables("billing")[0]
    assert sessions.startswith("CREATE TABLE IF NOT EXISTS billing.sessions (")
    assert (
        "ENGINE = ReplacingMergeTree PARTITION BY toYYYYMM(opened_at) "
        "ORDER BY (app_id, session_id, opened_at)" in sessions
    )
    assert "deduplication_window" not in " ".join(ddl.schema("billing"))


def test_schema_order_and_count() -> None:
    statements = ddl.schema("billing")
    assert statements[0] == "CREATE DATABASE IF NOT EXISTS billing"
    assert len(statements) == 1 + 4 + 4 * 3
    assert all("IF NOT EXISTS" in s for s in statements)


@pytest.mark.parametrize("name", ["", "a-b", "x;DROP", "1abc", "a" * 65])
def test_database_names_are_checked(name: str) -> None:
    with pytest.raises(ValueError, match="not a valid database name"):
        ddl.schema(name)
