"""DDL built by pure functions, compared as strings."""

from __future__ import annotations

import pytest

from sinks.clickhouse import ddl


def test_sessions_table_is_replacing_keyed_by_identity_and_ordered_by_time() -> None:
    sessions = ddl.raw_tables("billing")[0]
    assert sessions.startswith("CREATE TABLE IF NOT EXISTS billing.sessions (")
    assert (
        "ENGINE = ReplacingMergeTree PARTITION BY toMonday(opened_at) "
        "ORDER BY (app_id, opened_at, session_id)" in sessions
    )
    assert "deduplication_window" not in " ".join(ddl.schema("billing"))


def test_session_counts_keep_the_largest_recount() -> None:
    counts, agents, version = ddl.aggregate_tables("b")
    assert counts == (
        "CREATE TABLE IF NOT EXISTS b.session_counts (app_id String, quarter DateTime('UTC'), "
        "usage UInt32, voice UInt32, alert UInt32, version UInt64) "
        "ENGINE = ReplacingMergeTree(version) PARTITION BY toYear(quarter) "
        "ORDER BY (app_id, quarter)"
    )
    assert "mask SimpleAggregateFunction(groupBitOr, UInt128)" in agents
    assert "ENGINE = AggregatingMergeTree" in agents
    assert version.startswith("CREATE TABLE IF NOT EXISTS b.schema_version")


def test_recount_reads_the_raw_table_for_the_touched_quarters_only() -> None:
    sql = ddl.recount("b")
    assert sql.startswith("INSERT INTO b.session_counts (app_id, quarter, usage, voice, alert")
    assert "countIf(kind = 'voice') AS v" in sql
    assert "FROM b.sessions FINAL WHERE app_id IN {apps:Array(String)}" in sql
    assert "opened_at >= {lo:DateTime('UTC')} AND opened_at < {hi:DateTime('UTC')}" in sql


def test_the_migration_recount_counts_distinct_identities() -> None:
    sql = ddl.recount_all("b", "sessions_v1")
    assert "uniqExactIf((session_id, opened_at), kind = 'alert') AS a" in sql
    assert "FROM b.sessions_v1 GROUP BY app_id, q" in sql


def test_inserted_session_parts_are_compact_on_new_and_old_stores() -> None:
    assert "SETTINGS min_rows_for_wide_part = 1000000" in ddl.raw_tables("b")[0]
    assert ddl.schema("b")[4] == (
        "ALTER TABLE b.sessions MODIFY SETTING min_rows_for_wide_part = 1000000"
    )


def test_schema_order_and_count() -> None:
    statements = ddl.schema("billing")
    assert statements[0] == "CREATE DATABASE IF NOT EXISTS billing"
    assert len(statements) == 1 + 3 + 1 + 3
    assert all("IF NOT EXISTS" in s or "MODIFY SETTING" in s for s in statements)


@pytest.mark.parametrize("name", ["", "a-b", "x;DROP", "1abc", "a" * 65])
def test_database_names_are_checked(name: str) -> None:
    with pytest.raises(ValueError, match="not a valid database name"):
        ddl.schema(name)


def test_recounts_run_over_consecutive_days_and_a_late_day_alone() -> None:
    from sinks.clickhouse.rows import DaySpan
    from sinks.clickhouse.store import recount_runs

    day, q = 86_400_000, 900_000
    spans = [
        DaySpan(10, ["a"], 10 * day + q + 5, 10 * day + 2 * q),
        DaySpan(11, ["a", "b"], 11 * day, 11 * day + 2 * q + 1),
        DaySpan(7, ["c"], 7 * day + 10, 7 * day + 10),
    ]
    assert recount_runs(spans) == [
        (["c"], 7 * day, 7 * day + q),
        (["a", "b"], 10 * day + q, 11 * day + 3 * q),
    ]
