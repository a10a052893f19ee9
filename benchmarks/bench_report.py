"""Report queries over N synthetic sessions (issue #13: aggregates that scale).

Loads N sessions (100 apps, one year, a few agents each) through the sink role's own
steps from the wire (JSON values decoded column-wise while the previous batch is
inserted and recounted: ``pipeline.spine.OneAhead``; the record-by-record path, in sequence,
on the first million is the load's baseline), then times each report query, median
of 7, beside a baseline measured in the same run: the same figures computed straight
from the raw table (``count(DISTINCT)``). Prints the load rate and the storage of the raw
table and of the aggregates (active parts, bytes on disk).

    python benchmarks/bench_report.py --sessions 10000000 [--store chdb:///tmp/bench]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import NamedTuple

from prometheus_client import CollectorRegistry

from agents.kafka.records import PartitionBatch
from agents.metrics import BillingMetrics
from agents.sink import DECODERS, Decoded, SinkRole
from pipeline.spine import Batch, Offsets, OneAhead
from schemas import agent_activity, billing_session
from schemas.agent_activity import AgentActivity
from schemas.agent_activity import encode as encode_agent
from schemas.billing_session import BillingSession, encode
from sinks.clickhouse.store import ClickHouseStore, open_store

APPS, AGENTS, DAY_MS = 100, 8, 86_400_000
START = 1_735_689_600_000  # 2025-01-01T00:00:00Z
YEAR_MS = 365 * DAY_MS
KINDS = ("usage", "usage", "usage", "voice", "alert")
AHEAD = 50  # batches encoded ahead: 1e7 sessions, about 3 GB of values; each drain costs ~2-5%


def encoded(first: int, count: int, sessions: int) -> list[PartitionBatch]:
    """``count`` sessions from the ``first``, as the meter publishes them (JSON values on
    ``billing-sessions``), spread evenly over the year in time order (a backlog), and
    their agents' activity, as the sink's link hands them over."""
    step = YEAR_MS / sessions
    values: list[bytes] = []
    activity: list[bytes] = []
    for n in range(first, first + count):
        at = START + int(n * step)
        app = f"app-{n % APPS:03d}"
        kind = KINDS[n % 5]
        values.append(
            encode(BillingSession(f"{app}/c{n}/0@0/{kind}/0", kind, app, f"c{n}", 0, 0, "web", at))
        )
        if n % 50 == 0:
            activity.append(
                encode_agent(AgentActivity(app, f"agent-{n % AGENTS}", at - at % 900_000))
            )
    # orjson's bytes keep their whole write buffer (about 4 KiB each, measured by RSS); Kafka's
    # values are exact slices: copy them to their size (JSON holds no raw newline)
    values, activity = (b"\n".join(p).split(b"\n") if p else [] for p in (values, activity))
    offsets = list(range(first, first + count))
    return [
        PartitionBatch(billing_session.TOPIC, 0, offsets, [0] * count, values),
        PartitionBatch(
            agent_activity.TOPIC, 0, offsets[: len(activity)], [0] * len(activity), activity
        ),
    ]


def load(store: ClickHouseStore, sessions: int, batch: int, path: str = "pipelined") -> float:
    """Sessions per second through the sink role's own steps (``SinkRole`` in
    ``pipeline.spine.OneAhead``: a batch decoded column-wise while the one before it
    is inserted and recounted). Baselines: ``in sequence`` (the same steps, no overlap) and
    ``record by record`` (each value through the checked decoder, then written). Encoding the values
    (the meter's work) is not timed: batches are encoded ``AHEAD`` at a time beforehand, and
    the pipeline settles before the next are encoded (a drain the worker does not have)."""
    role = SinkRole(store, batch, BillingMetrics.create(CollectorRegistry()), asyncio.Event())
    spent = 0.0
    for chunk in range(0, sessions, AHEAD * batch):
        batches = [
            encoded(first, min(batch, sessions - first), sessions)
            for first in range(chunk, min(sessions, chunk + AHEAD * batch), batch)
        ]
        started = time.perf_counter()
        asyncio.run(PATHS[path](role, batches))
        spent += time.perf_counter() - started
    return sessions / spent


async def _through(role: SinkRole, batches: list[list[PartitionBatch]]) -> None:
    async def no_commit(_offsets: Offsets) -> None:
        """Offsets are Kafka's business; this measures the steps before the commit."""

    pipeline: OneAhead[list[PartitionBatch], Decoded] = OneAhead(role, no_commit)
    for records in batches:
        await pipeline.submit(Batch(records, {("sessions", 0): records[0].offsets[-1]}))
    await pipeline.join()


async def _in_sequence(role: SinkRole, batches: list[list[PartitionBatch]]) -> None:
    for records in batches:
        await role.write(await role.decode(records))


async def _one_by_one(role: SinkRole, batches: list[list[PartitionBatch]]) -> None:
    for records in batches:
        decoded = Decoded(
            None, 0, [DECODERS[p.topic](value) for p in records for value in p.values], []
        )
        await role.write(decoded)


PATHS = {"pipelined": _through, "in sequence": _in_sequence, "record by record": _one_by_one}


def settle(store: ClickHouseStore, limit_s: float = 600.0) -> float:
    """Wait (at most ``limit_s``) until no background merge runs in the store's database:
    queries are timed on a settled store, not against the load's merges. Returns the wait."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit_s:
        merges = store.query(
            f"SELECT count() FROM system.merges WHERE database = '{store.database}'"
        )
        if not merges[0][0]:
            break
        time.sleep(1)
    return time.perf_counter() - started


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
        baselines = {}
        for path in ("record by record", "in sequence"):
            baselines[path] = load(side, baseline_n, args.batch, path)
            for table in ("sessions", "session_counts", "agent_days"):
                side.command(f"TRUNCATE TABLE {side.database}.{table}")
        side.command(f"DROP DATABASE {side.database}")
        rate = load(store, args.sessions, args.batch)
        store.command(f"OPTIMIZE TABLE {store.database}.session_counts FINAL")
        settled = settle(store)
        end = START + YEAR_MS
        cases = [
            Case("one app, 30 days by day", "day", end - 30 * DAY_MS, end, "app-007", False),
            Case("one app, 24 h by hour", "hour", end - DAY_MS, end, "app-007", False),
            Case("one app, a year by month (posting)", "month", START, end, "app-007", False),
            Case("every app, a year by month", "month", START, end, None, False),
            Case("all apps summed, a year by month", "month", START, end, None, True),
        ]
        print(
            f"sessions: {args.sessions:,} ({APPS} apps, one year), batches of {args.batch:,}; "
            f"loaded through the sink's steps at {rate:,.0f} sessions/s (target >= 500,000)"
        )
        for path, baseline in baselines.items():
            print(
                f"  baseline, {path} (first {baseline_n:,}): {baseline:,.0f}/s; "
                f"the sink's steps are {rate / baseline:.2f}x"
            )
        print(f"background merges settled {settled:.0f} s after the load")
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
