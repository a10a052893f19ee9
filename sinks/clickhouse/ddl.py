"""DDL of the raw tables and the aggregates, built by pure functions (tested as strings).

Raw tables are ``ReplacingMergeTree`` keyed by the record's identity, so a re-inserted
row collapses into one. The aggregates are small and exact in any time zone, because
every real zone offset is a multiple of 15 minutes:

- ``session_counts``: per app and **quarter-hour**, the number of distinct sessions of
  each kind. Rows are recounted from the raw ``sessions`` table for every quarter-hour
  a batch touches (``sinks/clickhouse/store.py``), never incremented, so a retried
  batch, a re-delivered session or a sink killed mid-batch recounts the same (or a
  larger, more complete) number. The recount reads ``sessions FINAL``: its sorting key
  holds the session's identity (``session_id`` names its app, ``opened_at`` is in the
  key), so FINAL keeps one row per session, also inside a part inserted without
  deduplication. The table keeps the largest count per key
  (``ReplacingMergeTree(version)``, version = the row's total): counts of a bucket only
  grow, so the largest is the most complete.
- ``agent_days``: per app, agent and UTC day, a 96-bit mask of the quarter-hours the
  agent was active in (``groupBitOr``). OR is idempotent, and the mask is lossless, so
  distinct agents per hour, day, week or month of any zone are exact.
"""

from __future__ import annotations

import re

#: The aggregates' units: agent masks per UTC day, session counts per quarter-hour.
DAY_MS = 86_400_000
QUARTER_MS = 900_000
SCHEMA_VERSION = 2
LEGACY_ROLLUPS = ("usage_hourly", "usage_daily", "usage_weekly", "usage_monthly")
#: Parts of fewer rows are written as one file (compact), not a file per column: a sink
#: batch (up to 200,000 rows) is inserted about a fifth faster; merged parts grow wide.
WIDE_PART_ROWS = 1_000_000
#: Raw sessions are partitioned by UTC week (Monday). A backlog's inserted parts then merge
#: into partitions of a week, not a month: fewer merge rounds per row. At the density of
#: 1e8 sessions a year, the sink's steps loaded 484k-494k sessions/s against 408k-447k
#: with monthly partitions (4 and 3 runs of 5e6 sessions; README, "Why raw sessions are
#: partitioned by week").
SESSIONS_PARTITION = "toMonday(opened_at)"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def check_identifier(name: str) -> str:
    """Return ``name`` if it is a plain SQL identifier, else raise ``ValueError``."""
    if _IDENTIFIER.fullmatch(name) is None:
        raise ValueError(f"{name!r} is not a valid database name (letters, digits, _)")
    return name


def create_database(db: str) -> str:
    """``CREATE DATABASE`` statement."""
    return f"CREATE DATABASE IF NOT EXISTS {check_identifier(db)}"


def sessions_table(db: str, name: str = "sessions") -> str:
    """The raw sessions: ordered by app and time, so a quarter-hour recount reads little."""
    return (
        f"CREATE TABLE IF NOT EXISTS {check_identifier(db)}.{check_identifier(name)} ("
        "session_id String, kind LowCardinality(String), app_id String, "
        "conversation_id String, segment UInt32, slice UInt32, channel LowCardinality(String), "
        "opened_at DateTime64(3, 'UTC'), inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)) "
        f"ENGINE = ReplacingMergeTree PARTITION BY {SESSIONS_PARTITION} "
        "ORDER BY (app_id, opened_at, session_id) "
        f"SETTINGS min_rows_for_wide_part = {WIDE_PART_ROWS}"
    )


def compact_inserts(db: str) -> str:
    """Stores made before the setting: inserted parts compact too (idempotent)."""
    return (
        f"ALTER TABLE {check_identifier(db)}.sessions "
        f"MODIFY SETTING min_rows_for_wide_part = {WIDE_PART_ROWS}"
    )


def raw_tables(db: str) -> list[str]:
    """Sessions, conversation summaries and dead letters."""
    db = check_identifier(db)
    return [
        sessions_table(db),
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


def aggregate_tables(db: str) -> list[str]:
    """``session_counts`` (recounted per quarter-hour) and ``agent_days`` (OR-ed masks)."""
    db = check_identifier(db)
    return [
        f"CREATE TABLE IF NOT EXISTS {db}.session_counts ("
        "app_id String, quarter DateTime('UTC'), usage UInt32, voice UInt32, alert UInt32, "
        "version UInt64) ENGINE = ReplacingMergeTree(version) PARTITION BY toYear(quarter) "
        "ORDER BY (app_id, quarter)",
        f"CREATE TABLE IF NOT EXISTS {db}.agent_days ("
        "app_id String, day Date, agent_id String, "
        "mask SimpleAggregateFunction(groupBitOr, UInt128)) "
        "ENGINE = AggregatingMergeTree PARTITION BY toYear(day) ORDER BY (app_id, day, agent_id)",
        f"CREATE TABLE IF NOT EXISTS {db}.schema_version (version UInt32) "
        "ENGINE = ReplacingMergeTree(version) ORDER BY tuple()",
    ]


def _recounted(db: str, source: str, where: str, *, final: bool) -> str:
    """Sessions of each kind per app and quarter-hour, as ``session_counts`` rows.

    ``final``: count the rows of ``source FINAL`` (one per session: its sorting key is
    the identity), else ``uniqExact`` of the identity (any table, e.g. one being migrated).
    """
    if final:
        counted = "countIf(kind = '{k}')"
        source += " FINAL"
    else:
        counted = "uniqExactIf((session_id, opened_at), kind = '{k}')"
    u, v, a = (counted.format(k=kind) for kind in ("usage", "voice", "alert"))
    return (
        f"INSERT INTO {db}.session_counts (app_id, quarter, usage, voice, alert, version) "
        "SELECT app_id, q, u, v, a, u + v + a FROM (SELECT app_id, "
        f"toStartOfFifteenMinutes(opened_at) AS q, {u} AS u, {v} AS v, {a} AS a "
        f"FROM {db}.{source}{where} GROUP BY app_id, q)"
    )


def recount(db: str) -> str:
    """Recount every quarter-hour of the apps ``apps`` in ``[lo, hi)`` from the raw sessions.

    The raw table is ordered by (app, time), so this reads just those rows. Recounting a
    quarter nothing touched writes the count it already has: harmless. ``FINAL`` counts
    a quarter-hour of 200,000 sessions about a quarter faster than ``uniqExact``
    (a hash set per bucket).
    """
    return _recounted(
        check_identifier(db),
        "sessions",
        " WHERE app_id IN {apps:Array(String)} "
        "AND opened_at >= {lo:DateTime('UTC')} AND opened_at < {hi:DateTime('UTC')}",
        final=True,
    )


def recount_all(db: str, source: str = "sessions") -> str:
    """Every quarter-hour recounted (the migration from the set-based rollups)."""
    return _recounted(check_identifier(db), check_identifier(source), "", final=False)


def schema(db: str) -> list[str]:
    """Every statement, in order; each is idempotent (``IF NOT EXISTS``)."""
    return [create_database(db), *raw_tables(db), compact_inserts(db), *aggregate_tables(db)]
