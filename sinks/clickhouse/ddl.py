"""DDL for the raw tables and the rollups, built by pure functions (tested as strings).

Raw tables are ``ReplacingMergeTree`` keyed by the record's identity, so a
re-inserted row collapses into one. Rollups (``usage_hourly`` ... ``usage_monthly``)
are ``AggregatingMergeTree`` tables fed by materialized views, holding
``uniqExact`` states: of ``(session_id, opened_at)`` per kind, and of
``agent_id``. A set of identities is idempotent by construction: a retried
insert or a replayed file adds identities already in the set, so totals never
change, whatever the block-level deduplication did. ``uniqExact`` (not
``uniqCombined``) because an invoice must be exact, and its states merge
exactly across hours, days, weeks, months and apps.
"""

from __future__ import annotations

import re

GRANULARITIES = ("hour", "day", "week", "month")
ROLLUP_TABLES = {
    "hour": "usage_hourly",
    "day": "usage_daily",
    "week": "usage_weekly",
    "month": "usage_monthly",
}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_SESSION_STATE = "AggregateFunction(uniqExact, String, DateTime64(3, 'UTC'))"


def check_identifier(name: str) -> str:
    """Return ``name`` if it is a plain SQL identifier, else raise ``ValueError``."""
    if _IDENTIFIER.fullmatch(name) is None:
        raise ValueError(f"{name!r} is not a valid database name (letters, digits, _)")
    return name


def period_expr(granularity: str, column: str) -> str:
    """SQL expression for the start (UTC ``DateTime``) of the period holding ``column``."""
    exprs = {
        "hour": f"toStartOfHour({column})",
        "day": f"toStartOfDay({column})",
        "week": f"toDateTime(toMonday({column}), 'UTC')",
        "month": f"toDateTime(toStartOfMonth({column}), 'UTC')",
    }
    return exprs[granularity]


def create_database(db: str) -> str:
    """``CREATE DATABASE`` statement."""
    return f"CREATE DATABASE IF NOT EXISTS {check_identifier(db)}"


def raw_tables(db: str) -> list[str]:
    """The four raw tables: sessions, agent activity, conversation summaries, dead letters."""
    db = check_identifier(db)
    return [
        f"CREATE TABLE IF NOT EXISTS {db}.sessions ("
        "session_id String, kind LowCardinality(String), app_id String, "
        "conversation_id String, segment UInt32, slice UInt32, channel LowCardinality(String), "
        "opened_at DateTime64(3, 'UTC'), inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)) "
        "ENGINE = ReplacingMergeTree PARTITION BY toYYYYMM(opened_at) "
        f"ORDER BY (app_id, session_id, opened_at)",
        f"CREATE TABLE IF NOT EXISTS {db}.agent_activity ("
        "app_id String, agent_id String, hour DateTime('UTC')) "
        "ENGINE = ReplacingMergeTree PARTITION BY toYYYYMM(hour) "
        f"ORDER BY (app_id, hour, agent_id)",
        f"CREATE TABLE IF NOT EXISTS {db}.conversations ("
        "app_id String, conversation_id String, segment UInt32, channel LowCardinality(String), "
        "started_at DateTime64(3, 'UTC'), ended_at DateTime64(3, 'UTC'), bot_ms UInt64, "
        "agent_ms UInt64, interaction_ms UInt64, usage_sessions UInt32, voice_sessions UInt32, "
        "cause LowCardinality(String)) "
        "ENGINE = ReplacingMergeTree PARTITION BY toYYYYMM(started_at) "
        f"ORDER BY (app_id, conversation_id, segment)",
        f"CREATE TABLE IF NOT EXISTS {db}.dead_letters ("
        "source String, source_topic LowCardinality(String), partition Int32, offset Int64, "
        "reason_code LowCardinality(String), field Nullable(String), reason String, raw String, "
        "received_at DateTime64(3, 'UTC') DEFAULT now64(3)) "
        "ENGINE = ReplacingMergeTree "
        f"ORDER BY (source, source_topic, partition, offset)",
    ]


def rollup_table(db: str, granularity: str) -> str:
    """One rollup table: per app and period, distinct sessions by kind and distinct agents."""
    db = check_identifier(db)
    return (
        f"CREATE TABLE IF NOT EXISTS {db}.{ROLLUP_TABLES[granularity]} ("
        "app_id String, period DateTime('UTC'), "
        f"usage_sessions {_SESSION_STATE}, voice_sessions {_SESSION_STATE}, "
        f"alert_sessions {_SESSION_STATE}, agents AggregateFunction(uniqExact, String)) "
        "ENGINE = AggregatingMergeTree ORDER BY (app_id, period)"
    )


def rollup_views(db: str, granularity: str) -> list[str]:
    """The two materialized views feeding one rollup: from sessions and from agent activity."""
    db = check_identifier(db)
    table = ROLLUP_TABLES[granularity]
    kinds = ", ".join(
        f"uniqExactIfState(session_id, opened_at, kind = '{kind}') AS {kind}_sessions"
        for kind in ("usage", "voice", "alert")
    )
    return [
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{table}_sessions_mv TO {db}.{table} AS "
        f"SELECT app_id, {period_expr(granularity, 'opened_at')} AS period, {kinds} "
        f"FROM {db}.sessions GROUP BY app_id, period",
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{table}_agents_mv TO {db}.{table} AS "
        f"SELECT app_id, {period_expr(granularity, 'hour')} AS period, "
        f"uniqExactState(agent_id) AS agents FROM {db}.agent_activity GROUP BY app_id, period",
    ]


def schema(db: str) -> list[str]:
    """Every statement, in order; each is idempotent (``IF NOT EXISTS``)."""
    statements = [create_database(db), *raw_tables(db)]
    for granularity in GRANULARITIES:
        statements.append(rollup_table(db, granularity))
        statements.extend(rollup_views(db, granularity))
    return statements
