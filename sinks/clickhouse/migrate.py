"""Converting a store of the set-based rollups (schema 1) to the count-based one (2), once.

Schema 1 kept ``uniqExact`` sets of every session id in four rollups, fed by
materialized views, agents per UTC hour in ``agent_activity``, and raw sessions
ordered by (app, session id). Schema 2 orders raw sessions by (app, time), recounts
quarter-hours into ``session_counts`` and keeps agents as quarter-hour masks in
``agent_days``. Every step is idempotent and the version is written last, so a
migration killed at any point is finished by the next start; sessions are only ever
copied and recounted from the raw table, never summed twice. Hourly agents of
schema 1 become the first quarter of their hour (exact in UTC and whole-hour zones).

Raw sessions partitioned by month (schema 2 before weekly partitions) are copied the same
way into a table partitioned by week; their counts and masks stay as they are.
"""

from __future__ import annotations

from typing import Any, Protocol

from sinks.clickhouse.ddl import (
    LEGACY_ROLLUPS,
    SCHEMA_VERSION,
    SESSIONS_PARTITION,
    check_identifier,
    recount_all,
    sessions_table,
)

SORTING_KEY = "app_id, opened_at, session_id"
COLUMNS = "session_id, kind, app_id, conversation_id, segment, slice, channel, opened_at"


class Commands(Protocol):
    """What a migration needs of the store."""

    def command(self, sql: str, parameters: dict[str, Any] | None = None) -> None:
        """Run one statement."""

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Run a read query."""


def _tables(store: Commands, db: str) -> dict[str, tuple[str, str]]:
    """Each table's (sorting key, partition key)."""
    rows = store.query(
        f"SELECT name, sorting_key, partition_key FROM system.tables WHERE database = '{db}'"
    )
    return {str(name): (str(key), str(partition)) for name, key, partition in rows}


def upgrade(store: Commands, db: str) -> list[str]:
    """Before the schema-2 tables are created: drop the rollup views, reorder ``sessions``."""
    db = check_identifier(db)
    tables, steps = _tables(store, db), []
    for rollup in LEGACY_ROLLUPS:
        for view in (f"{rollup}_sessions_mv", f"{rollup}_agents_mv"):
            if view in tables:
                store.command(f"DROP VIEW IF EXISTS {db}.{view}")
                steps.append(f"dropped the view {view}")
    if "sessions_legacy" in tables:  # a copy killed after its swap: the copy is complete
        store.command(f"DROP TABLE {db}.sessions_legacy")
    if "sessions" in tables and tables["sessions"] != (SORTING_KEY, SESSIONS_PARTITION):
        store.command(f"DROP TABLE IF EXISTS {db}.sessions_migrating")
        store.command(sessions_table(db, "sessions_migrating"))
        store.command(
            f"INSERT INTO {db}.sessions_migrating ({COLUMNS}, inserted_at) "
            f"SELECT {COLUMNS}, inserted_at FROM {db}.sessions"
        )
        store.command(
            f"RENAME TABLE {db}.sessions TO {db}.sessions_legacy, "
            f"{db}.sessions_migrating TO {db}.sessions"
        )
        store.command(f"DROP TABLE {db}.sessions_legacy")
        steps.append(
            "copied sessions into a table ordered by (app_id, opened_at), partitioned by week"
        )
    return steps


def finish(store: Commands, db: str) -> list[str]:
    """After the schema-2 tables exist: recount, convert agents, drop the rollups."""
    db = check_identifier(db)
    rows = store.query(f"SELECT max(version) FROM {db}.schema_version")
    if rows and rows[0][0] is not None and int(rows[0][0]) >= SCHEMA_VERSION:
        return []
    tables, steps = _tables(store, db), []
    store.command(recount_all(db))
    steps.append("recounted session_counts from the raw sessions")
    if "agent_activity" in tables:
        store.command(
            f"INSERT INTO {db}.agent_days (app_id, day, agent_id, mask) "
            "SELECT app_id, toDate(hour), agent_id, "
            "bitShiftLeft(toUInt128(1), intDiv(toUInt32(hour) % 86400, 900)) "
            f"FROM {db}.agent_activity"
        )
        store.command(f"DROP TABLE IF EXISTS {db}.agent_activity")
        steps.append("converted agent_activity (hours) into agent_days (quarter-hour masks)")
    for rollup in LEGACY_ROLLUPS:
        if rollup in tables:
            store.command(f"DROP TABLE IF EXISTS {db}.{rollup}")
            steps.append(f"dropped the rollup {rollup}")
    store.command(f"INSERT INTO {db}.schema_version VALUES ({SCHEMA_VERSION})")
    return steps
