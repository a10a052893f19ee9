"""A ClickHouse store, embedded (chdb) or a server (HTTP), through one code path."""

from __future__ import annotations

import functools
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import clickhouse_connect
from clickhouse_connect.driver.exceptions import ClickHouseError

from sinks.base import Batch
from sinks.clickhouse import migrate
from sinks.clickhouse.ddl import QUARTER_MS, recount, schema
from sinks.clickhouse.queries import agent_cut, agents_query, apps_query, sessions_query
from sinks.clickhouse.urls import StoreUrl, parse_store_url

if TYPE_CHECKING:
    import pyarrow as pa

    from sinks.clickhouse.rows import DaySpan

P = ParamSpec("P")
R = TypeVar("R")

# pyarrow and the row builders are imported by the write path only: a report (the CLI's
# `usage`, the web role) reads through clickhouse-connect, and pyarrow costs it ~0.1 s.

#: Sink inserts are synchronous, without block-level deduplication: the tables are
#: idempotent by design (see ddl.py), and a block hash logged for an insert that a
#: crash interrupted would make ClickHouse drop its retry, losing rows.
INSERT_SETTINGS = {"async_insert": 0, "insert_deduplicate": 0}
SESSION_INSERT_SETTINGS = {**INSERT_SETTINGS, "optimize_on_insert": 0}


class StoreError(RuntimeError):
    """The store cannot be reached or used; the message is one line for the user."""


class EmbeddedArrowInsert:
    """Sessions into the embedded engine straight from the Arrow table's memory.

    clickhouse-connect's ``insert_arrow`` writes the table to an IPC file for chdb to read
    back; chdb's ``Python()`` table function reads the Arrow buffers in place (the insert
    took 0.61 instead of 0.89 µs a session, measured at 200,000-row batches). A second
    handle on the same path shares the engine with the client.
    """

    def __init__(self, path: str) -> None:
        import chdb  # noqa: PLC0415 - only the embedded store needs it

        self._conn = chdb.connect(path)  # type: ignore[no-untyped-call]

    def __call__(self, table: str, sessions: pa.Table) -> None:
        columns = ", ".join(sessions.column_names)
        settings = ", ".join(f"{k} = {v}" for k, v in SESSION_INSERT_SETTINGS.items())
        # Python(sessions) names the local variable above: chdb finds it in this frame
        self._conn.query(
            f"INSERT INTO {table} ({columns}) SELECT * FROM Python(sessions) SETTINGS {settings}",
            "CSV",
        )

    def close(self) -> None:
        self._conn.close()


def _serialized(method: Callable[P, R]) -> Callable[P, R]:
    """One call at a time per store: the embedded engine allows one client per process,
    and the sink writes from a thread while the web role reads from others."""

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        store = args[0]
        if not isinstance(store, ClickHouseStore):
            raise TypeError(store)
        with store.lock:
            return method(*args, **kwargs)

    return call


class ClickHouseStore:
    """Schema, idempotent batch writes (the sink backend) and the usage queries.

    Safe to share between threads: every public call holds the store's own lock (a
    call may make others, hence re-entrant), so callers need no lock of their own.
    """

    def __init__(
        self, client: Any, reader: Any, database: str, arrow_insert: EmbeddedArrowInsert | None
    ) -> None:
        self._client = client
        self.database = database
        self._embedded_insert = arrow_insert
        # a report's two queries run at once, on two clients: their cost is mostly
        # planning, one core each (one app, 30 days: 18 instead of 29 ms, median of 31)
        self._reader = reader
        self._side = ThreadPoolExecutor(1, "report-agents")
        self.lock = threading.RLock()

    @_serialized
    def ensure_schema(self) -> list[str]:
        """Create what is missing and convert an older store once (idempotent).

        Returns the migration steps it took (none on a current store).
        """
        self._client.command(schema(self.database)[0])
        steps = migrate.upgrade(self, self.database)
        for statement in schema(self.database)[1:]:
            self._client.command(statement)
        steps += migrate.finish(self, self.database)
        return steps

    @_serialized
    def command(self, sql: str, parameters: dict[str, Any] | None = None) -> None:
        """Run one statement (DDL or ``INSERT ... SELECT``)."""
        self._client.command(sql, parameters=parameters, settings=INSERT_SETTINGS)

    @_serialized
    def write(self, batch: Batch) -> None:
        """Insert one batch, column-oriented; sessions then recount their quarter-hours.

        A failure anywhere raises, and the caller retries the whole batch: the raw insert
        is idempotent and the recount reads the raw table, so a retry cannot count twice.
        """
        import pyarrow as pa  # noqa: PLC0415 - see the imports

        from sinks.clickhouse.rows import TARGETS, sessions_arrow, to_columns  # noqa: PLC0415

        if batch.table == "sessions":  # the bulk of the rows: through Arrow, columns in C
            parts = [sessions_arrow(*to_columns(batch))] if batch.records else []
            self.write_sessions(pa.concat_tables([*parts, *batch.blocks]))
            return
        if batch.blocks:
            raise ValueError(f"column blocks are for sessions, not {batch.table}")
        names, columns = to_columns(batch)
        table = f"{self.database}.{TARGETS.get(batch.table, batch.table)}"
        self._client.insert(
            table, columns, column_names=names, column_oriented=True, settings=INSERT_SETTINGS
        )

    @_serialized
    def write_sessions(self, sessions: pa.Table) -> None:
        """Insert sessions (an Arrow table) and recount the quarter-hours they touch.

        The raw table is only ever counted with ``FINAL`` or ``uniqExact``, so a block need not be
        deduplicated as it is inserted (``optimize_on_insert=0``; about a quarter less
        insert time, measured at 200,000-row batches)."""
        from sinks.clickhouse.rows import day_spans  # noqa: PLC0415 - see the imports

        table = f"{self.database}.sessions"
        if self._embedded_insert is not None:
            self._embedded_insert(table, sessions)
        else:
            self._client.insert_arrow(table, sessions, settings=SESSION_INSERT_SETTINGS)
        self.recount(day_spans(sessions))

    @_serialized
    def recount(self, spans: list[DaySpan]) -> None:
        """Recount the quarter-hours a batch touched (per UTC day) from the raw sessions.

        One statement per run of consecutive days: a backlog batch is one or two runs,
        and a late session of an old day is a run of its own.
        """
        for apps, lo_ms, hi_ms in recount_runs(spans):
            self.command(
                recount(self.database),
                parameters={"apps": apps, "lo": _utc(lo_ms), "hi": _utc(hi_ms)},
            )

    @_serialized
    def usage_rows(
        self,
        *,
        by: str,
        start_ms: int,
        end_ms: int,
        app_id: str | None,
        sum_apps: bool,
        tz: str = "UTC",
        apps: Sequence[str] | None = None,
    ) -> list[tuple[Any, ...]]:
        """Report rows, sorted: (period start, app_id, usage, voice, alert, agents).

        ``app_id`` keeps one app; ``apps`` keeps only those (an owner's bots)."""
        chosen = [app_id] if app_id is not None else None if apps is None else list(apps)
        if chosen is not None and apps is not None:
            chosen = [app for app in chosen if app in set(apps)]
        app_filter = chosen is not None
        apps_param = {"apps": chosen} if chosen is not None else {}
        agents = self._read_aside(
            agents_query(self.database, by=by, tz=tz, app_filter=app_filter, sum_apps=sum_apps),
            {**agent_cut(start_ms, end_ms), **apps_param},
        )
        sessions = self.query(
            sessions_query(self.database, by=by, tz=tz, app_filter=app_filter, sum_apps=sum_apps),
            {"start": _utc(start_ms), "end": _utc(end_ms), **apps_param},
        )
        counts: dict[tuple[Any, str], list[int]] = {}
        for period, app, usage, voice, alert in sessions:
            counts[(period, app)] = [usage, voice, alert, 0]
        for period, app, agent_count in agents.result():
            counts.setdefault((period, app), [0, 0, 0, 0])[3] = agent_count
        return [
            (period, app, *values)
            for (period, app), values in sorted(counts.items())
            if any(values)
        ]

    def _read_aside(self, sql: str, parameters: dict[str, Any]) -> Future[list[tuple[Any, ...]]]:
        """Run a read query on the second client, in its thread."""
        reader = self._reader
        return self._side.submit(lambda: list(reader.query(sql, parameters=parameters).result_rows))

    @_serialized
    def apps(self) -> list[str]:
        """App ids with any activity."""
        return [row[0] for row in self._client.query(apps_query(self.database)).result_rows]

    @_serialized
    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Run a read query (for analysts, migrations and tests)."""
        return list(self._client.query(sql, parameters=parameters).result_rows)

    @_serialized
    def close(self) -> None:
        """Release the client (and the embedded engine's lock)."""
        if self._embedded_insert is not None:
            self._embedded_insert.close()
        self._side.shutdown()
        self._reader.close()
        self._client.close()


def recount_runs(spans: list[DaySpan]) -> list[tuple[list[str], int, int]]:
    """Join the day spans of consecutive days: (apps, first quarter, last quarter + 15 min)."""
    runs: list[list[DaySpan]] = []
    for span in sorted(spans):
        if runs and span.day == runs[-1][-1].day + 1:
            runs[-1].append(span)
        else:
            runs.append([span])
    return [
        (
            sorted({app for span in run for app in span.apps}),
            run[0].first_ms - run[0].first_ms % QUARTER_MS,
            run[-1].last_ms - run[-1].last_ms % QUARTER_MS + QUARTER_MS,
        )
        for run in runs
    ]


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def open_store(url: str, *, create: bool = True) -> ClickHouseStore:
    """Connect and (by default) apply the schema. Raises :class:`StoreError` with one line."""
    target = parse_store_url(url)
    try:
        embedded_insert = None
        if target.scheme == "chdb":
            client, reader = _open_embedded(target), _open_embedded(target)
            embedded_insert = EmbeddedArrowInsert(target.path)
        else:
            client, reader = _open_server(target), _open_server(target)
        store = ClickHouseStore(client, reader, target.database, embedded_insert)
        if create:
            store.ensure_schema()
    except ClickHouseError as exc:
        raise StoreError(_one_line(target, exc)) from exc
    except OSError as exc:
        raise StoreError(f"cannot use the ClickHouse store at {_where(target)}: {exc}") from exc
    return store


def _open_server(target: StoreUrl) -> Any:
    return clickhouse_connect.get_client(
        host=target.host,
        port=target.port,
        username=target.username,
        password=target.password,
        secure=target.scheme == "https",
        connect_timeout=5,
        send_receive_timeout=60,
    )


def _open_embedded(target: StoreUrl) -> Any:
    """Open chdb with its native stderr captured, so a failure is reported in one line."""
    Path(target.path).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile() as captured:
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            return clickhouse_connect.get_client(dsn=f"chdb://{target.path}")
        except ClickHouseError as exc:
            os.dup2(saved, 2)
            captured.seek(0)
            native = captured.read().decode(errors="replace")
            raise StoreError(_one_line(target, exc, native)) from exc
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _where(target: StoreUrl) -> str:
    if target.scheme == "chdb":
        return target.path
    return f"{target.scheme}://{target.host}:{target.port}"


def _one_line(target: StoreUrl, exc: Exception, native: str = "") -> str:
    text = f"{native} {exc}"
    if "Cannot lock file" in text or "already initialized" in text:
        return (
            f"the embedded store {target.path} is in use by another process (a running "
            "worker?); query the worker with --api, or stop it first"
        )
    message = str(exc).strip()
    first = message.splitlines()[0] if message else type(exc).__name__
    return f"cannot use the ClickHouse store at {_where(target)}: {first[:300]}"
