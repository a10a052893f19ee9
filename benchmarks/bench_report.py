"""Report queries over N synthetic sessions (issue #13: aggregates that scale).

Loads N sessions (100 apps, one year, a few agents each) through the sink's own path
from the wire (JSON values decoded column-wise, ``BatchingSink`` into
``ClickHouseStore.write``: raw insert, then the quarter-hour recount; the record-by-record
path on the first million is the load's baseline), then times each report query, median
of 7, beside a baseline
measured in the same run: the same figures computed straight from the raw table
(``count(DISTINCT)``). Prints the load rate and the storage of the raw table and of the
aggregates (active parts, bytes on disk).

    python benchmarks/bench_report.py --sessions 10000000 [--store chdb:///tmp/bench]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import NamedTuple

from schemas.agent_activity import AgentActivity
from schemas.billing_session import BillingSession, decode, encode
from sinks.base import BatchingSink
from sinks.clickhouse.rows import sessions_from_json
from sinks.clickhouse.store import ClickHouseStore, open_store

APPS, AGENTS, DAY_MS = 100, 8, 86_400_000
START = 1_735_689_600_000  # 2025-01-01T00:00:00Z
YEAR_MS = 365 * DAY_MS
KINDS = ("usage", "usage", "usage", "voice", "alert")


def encoded(first: int, count: int, sessions: int) -> tuple[list[bytes], list[AgentActivity]]:
    """``count`` sessions from the ``first``, as the meter publishes them (JSON values),
    spread evenly over the year in time order (a backlog), and their agents' activity."""
    step = YEAR_MS / sessions
    values: list[bytes] = []
    agents: list[AgentActivity] = []
    for n in range(first, first + count):
        at = START + int(n * step)
        app = f"app-{n % APPS:03d}"
        kind = KINDS[n % 5]
        values.append(
            encode(BillingSession(f"{app}/c{n}/0@0/{kind}/0", kind, app, f"c{n}", 0, 0, "web", at))
        )
        if n % 50 == 0:
            agents.append(AgentActivity(app, f"agent-{n % AGENTS}", at - at % 900_000))
    return values, agents


def load(store: ClickHouseStore, sessions: int, batch: int, *, column_wise: bool = True) -> float:
    """Sessions per second through the sink's path from the wire: the sink role decodes a
    consumed batch of session values column-wise (``sessions_from_json``) and buffers it;
    ``column_wise=False`` is the record-by-record path (the baseline). Encoding the values
    (the meter's work) is not timed."""
    sink = BatchingSink(store, max_rows=batch)
    spent = 0.0
    for first in range(0, sessions, batch):
        values, agents = encoded(first, min(batch, sessions - first), sessions)
        started = time.perf_counter()
        block = sessions_from_json(values) if column_wise else None
        if block is not None:
            sink.add_block("sessions", block, len(values))
        else:
            for value in values:
                sink.add(decode(value))
        for activity in agents:
            sink.add(activity)
        spent += time.perf_counter() - started
    started = time.perf_counter()
    sink.flush()
    return sessions / (spent + time.perf_counter() - started)


def other_database(url: str, name: str) -> str:
    """The same store, another database (the embedded engine allows one path a process)."""
    if url.startswith("chdb"):
        return f"{url.split('?', maxsplit=1)[0]}?database={name}"
    return f"{url.rsplit('/', 1)[0]}/{name}"


def timed(run: Callable[[], object], repeats: int = 7) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


class Case(NamedTuple):
    """One report query."""

    name: str
    by: str
    start: int
    end: int
    app: str | None
    sum_apps: bool


def direct(store: ClickHouseStore, case: Case) -> Callable[[], object]:
    """The baseline: the same sessions per UTC period straight from the raw table."""
    period = {"hour": "toStartOfHour", "day": "toStartOfDay", "month": "toStartOfMonth"}[case.by]
    where = (
        f"opened_at >= fromUnixTimestamp64Milli({case.start}) AND opened_at < "
        f"fromUnixTimestamp64Milli({case.end})"
    )
    if case.app:
        where += f" AND app_id = '{case.app}'"
    group = "'*'" if case.sum_apps else "app_id"
    sql = (
        f"SELECT {period}(opened_at) p, {group} a, kind, "
        f"count(DISTINCT session_id, opened_at) FROM {store.database}.sessions "
        f"WHERE {where} GROUP BY p, a, kind"
    )
    return lambda: store.query(sql)


def report(store: ClickHouseStore, case: Case, tz: str) -> Callable[[], object]:
    """The report's own query, over whole local periods of ``tz``."""
    offset = -19_800_000 if tz == "Asia/Kolkata" else 0

    def run() -> object:
        return store.usage_rows(
            by=case.by,
            start_ms=case.start + offset,
            end_ms=case.end + offset,
            app_id=case.app,
            sum_apps=case.sum_apps,
            tz=tz,
        )

    return run


def storage(store: ClickHouseStore, tables: tuple[str, ...]) -> int:
    names = ", ".join(f"'{t}'" for t in tables)
    rows = store.query(
        f"SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND "
        f"database = '{store.database}' AND table IN ({names})"
    )
    return int(rows[0][0] or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=10_000_000)
    parser.add_argument("--store", help="chdb:///path or http://... (default: a temp dir)")
    parser.add_argument("--batch", type=int, default=200_000, help="sessions per insert")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(args.store or f"chdb://{tmp}/bench")
        baseline_n = min(args.sessions, 1_000_000)
        side = open_store(other_database(args.store or f"chdb://{tmp}/bench", "bench_baseline"))
        baseline = load(side, baseline_n, args.batch, column_wise=False)
        side.command(f"DROP DATABASE {side.database}")
        rate = load(store, args.sessions, args.batch)
        store.command(f"OPTIMIZE TABLE {store.database}.session_counts FINAL")
        end = START + YEAR_MS
        cases = [
            Case("one app, 30 days by day", "day", end - 30 * DAY_MS, end, "app-007", False),
            Case("one app, 24 h by hour", "hour", end - DAY_MS, end, "app-007", False),
            Case("one app, a year by month (posting)", "month", START, end, "app-007", False),
            Case("every app, a year by month", "month", START, end, None, False),
            Case("all apps summed, a year by month", "month", START, end, None, True),
        ]
        print(
            f"sessions: {args.sessions:,} ({APPS} apps, one year); loaded through the sink "
            f"path at {rate:,.0f} sessions/s (target >= 500,000); record by record (the "
            f"previous path, first {baseline_n:,}): {baseline:,.0f}/s, {rate / baseline:.2f}x"
        )
        print(f"{'query (median of 7, ms)':40s} {'UTC':>8s} {'Kolkata':>8s} {'raw UTC':>9s}")
        for case in cases:
            utc, kolkata = (timed(report(store, case, tz)) for tz in ("UTC", "Asia/Kolkata"))
            baseline = timed(direct(store, case), repeats=3)
            print(f"{case.name:40s} {utc:8.1f} {kolkata:8.1f} {baseline:9.1f}")
        raw = storage(store, ("sessions",))
        aggregates = storage(store, ("session_counts", "agent_days"))
        print(
            f"storage: raw sessions {raw / 2**20:,.1f} MiB, aggregates "
            f"{aggregates / 2**20:,.1f} MiB ({aggregates / raw:.1%} of raw; target <= 10%)"
        )
        store.close()


if __name__ == "__main__":
    main()
