"""The count-based aggregates on the real embedded engine: exact in any zone, under retries,
re-deliveries, late sessions, a sink killed mid-batch, and the migration of an old store."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.agent_activity import AgentActivity
from schemas.billing_session import BillingSession
from sinks.base import BatchingSink
from sinks.clickhouse.store import ClickHouseStore, open_store
from tests.conftest import StoreFactory

pytestmark = pytest.mark.integration

DAY, HOUR, QUARTER = 86_400_000, 3_600_000, 900_000
T = 1_764_115_200_000  # 2025-11-26T00:00:00Z
ZONES = ["UTC", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns", "Europe/Berlin"]
PERIOD_SQL = {
    "hour": "toStartOfHour(opened_at, '{tz}')",
    "day": "toStartOfDay(opened_at, '{tz}')",
    "week": "toDateTime(toMonday(opened_at, '{tz}'), '{tz}')",
    "month": "toDateTime(toStartOfMonth(opened_at, '{tz}'), '{tz}')",
}


def session(n: int, at_ms: int, kind: str = "usage", app: str = "a") -> BillingSession:
    return BillingSession(f"{app}/c{n}/0@0/{kind}/0", kind, app, f"c{n}", 0, 0, "web", at_ms)


def direct(store: ClickHouseStore, by: str, tz: str, start: int, end: int) -> dict[str, int]:
    """The same report straight from the raw table: count(DISTINCT) per period and kind."""
    period = PERIOD_SQL[by].format(tz=tz)
    rows = store.query(
        f"SELECT toString({period}), kind, count(DISTINCT session_id, opened_at) "
        f"FROM {store.database}.sessions WHERE opened_at >= fromUnixTimestamp64Milli({start}) "
        f"AND opened_at < fromUnixTimestamp64Milli({end}) GROUP BY 1, 2"
    )
    return {f"{p}/{kind}": int(n) for p, kind, n in rows}


def aggregated(store: ClickHouseStore, by: str, tz: str, start: int, end: int) -> dict[str, int]:
    out: dict[str, int] = {}
    for period, _, usage, voice, alert, _ in store.usage_rows(
        by=by, start_ms=start, end_ms=end, app_id=None, sum_apps=True, tz=tz
    ):
        local = period.replace(tzinfo=UTC).astimezone(ZoneInfo(tz))
        for kind, n in (("usage", usage), ("voice", voice), ("alert", alert)):
            if n:
                out[f"{local.strftime('%Y-%m-%d %H:%M:%S')}/{kind}"] = n
    return out


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.tuples(st.integers(0, 40 * DAY), st.sampled_from(["usage", "voice", "alert"])),
        min_size=1,
        max_size=120,
    ),
    st.integers(0, 2**32),
    st.sampled_from(ZONES),
    st.sampled_from(["hour", "day", "week", "month"]),
)
def test_aggregates_equal_count_distinct_on_the_raw_table(
    store_factory: StoreFactory,
    sessions: list[tuple[int, str]],
    seed: int,
    tz: str,
    by: str,
) -> None:
    rnd = random.Random(seed)
    store = store_factory()
    rows = [session(n % 50, T + at, kind) for n, (at, kind) in enumerate(sessions)]
    sink = BatchingSink(store, max_rows=rnd.randint(1, 30))
    for _ in range(rnd.randint(1, 3)):  # re-deliveries and retries with other boundaries
        for row in rnd.sample(rows, len(rows)):
            sink.add(row)
        sink.flush()
    start = T - DAY + rnd.randint(0, 10) * HOUR + (30 * 60_000 if "Kolkata" in tz else 0)
    start -= start % QUARTER
    end = start + rnd.randint(1, 45) * DAY
    assert aggregated(store, by, tz, start, end) == direct(store, by, tz, start, end)


def test_a_late_session_updates_its_old_period_and_only_that_one(store: ClickHouseStore) -> None:
    sink = BatchingSink(store)
    for n in range(5):
        sink.add(session(n, T + 3 * DAY + n * HOUR))
    sink.flush()
    before = {
        str(r[0]): r[2]
        for r in store.usage_rows(
            by="day", start_ms=T, end_ms=T + 4 * DAY, app_id=None, sum_apps=False
        )
    }
    sink.add(session(99, T + 10 * HOUR))  # three days late
    sink.flush()
    after = {
        str(r[0]): r[2]
        for r in store.usage_rows(
            by="day", start_ms=T, end_ms=T + 4 * DAY, app_id=None, sum_apps=False
        )
    }
    assert after == {**before, "2025-11-26 00:00:00": 1}


def test_the_ist_day_boundary_falls_between_18_29_59_999_and_18_30_utc(
    store: ClickHouseStore,
) -> None:
    sink = BatchingSink(store)
    sink.add(session(1, T + 18 * HOUR + 30 * 60_000 - 1))
    sink.add(session(2, T + 18 * HOUR + 30 * 60_000))
    sink.add(AgentActivity("a", "agent-1", T + 18 * HOUR + 15 * 60_000))
    sink.add(AgentActivity("a", "agent-2", T + 18 * HOUR + 30 * 60_000))
    sink.flush()
    rows = store.usage_rows(
        by="day",
        start_ms=T - DAY,
        end_ms=T + 2 * DAY,
        app_id="a",
        sum_apps=False,
        tz="Asia/Kolkata",
    )
    days = [
        (
            r[0].replace(tzinfo=UTC).astimezone(ZoneInfo("Asia/Kolkata")).date().isoformat(),
            r[2],
            r[5],
        )
        for r in rows
    ]
    assert days == [("2025-11-26", 1, 1), ("2025-11-27", 1, 1)]
    utc = store.usage_rows(by="day", start_ms=T, end_ms=T + DAY, app_id="a", sum_apps=False)
    assert [(r[2], r[5]) for r in utc] == [(2, 2)]


LEGACY = [  # schema 1, as the previous release created it
    "CREATE TABLE IF NOT EXISTS {db}.sessions (session_id String, kind LowCardinality(String), "
    "app_id String, conversation_id String, segment UInt32, slice UInt32, "
    "channel LowCardinality(String), opened_at DateTime64(3, 'UTC'), "
    "inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = ReplacingMergeTree "
    "PARTITION BY toYYYYMM(opened_at) ORDER BY (app_id, session_id, opened_at)",
    "CREATE TABLE IF NOT EXISTS {db}.agent_activity (app_id String, agent_id String, "
    "hour DateTime('UTC')) ENGINE = ReplacingMergeTree PARTITION BY toYYYYMM(hour) "
    "ORDER BY (app_id, hour, agent_id)",
    "CREATE TABLE IF NOT EXISTS {db}.usage_daily (app_id String, period DateTime('UTC'), "
    "usage_sessions AggregateFunction(uniqExact, String, DateTime64(3, 'UTC'))) "
    "ENGINE = AggregatingMergeTree ORDER BY (app_id, period)",
    "CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.usage_daily_sessions_mv TO {db}.usage_daily "
    "AS SELECT app_id, toStartOfDay(opened_at) AS period, "
    "uniqExactIfState(session_id, opened_at, kind = 'usage') AS usage_sessions "
    "FROM {db}.sessions GROUP BY app_id, period",
]


def test_an_old_store_converts_once_without_losing_or_double_counting(chdb_path: Path) -> None:
    """One chdb path per process: the old store is another database on the session's path."""
    url = f"chdb://{chdb_path}?database=legacy"
    store = open_store(url, create=False)
    store.command("CREATE DATABASE IF NOT EXISTS legacy")
    for statement in LEGACY:
        store.command(statement.format(db="legacy"))
    store.command(
        "INSERT INTO legacy.sessions (session_id, kind, app_id, conversation_id, segment, slice, "
        "channel, opened_at) SELECT concat('s', toString(number % 300)), 'usage', 'a', 'c', 0, 0, "
        f"'web', fromUnixTimestamp64Milli(toInt64({T} + (number % 300) * 60000)) "
        "FROM numbers(600)"  # every session twice: a re-delivery the old store kept
    )
    store.command(f"INSERT INTO legacy.agent_activity VALUES ('a', 'x', {T // 1000 + 3600})")
    steps = store.ensure_schema()
    assert any("ordered by (app_id, opened_at)" in step for step in steps)
    assert store.ensure_schema() == []  # once
    tables = {
        row[0] for row in store.query("SELECT name FROM system.tables WHERE database = 'legacy'")
    }
    assert "usage_daily" not in tables and "agent_activity" not in tables
    rows = store.usage_rows(by="day", start_ms=T, end_ms=T + DAY, app_id=None, sum_apps=True)
    assert [(r[2], r[5]) for r in rows] == [(300, 1)]
    store.command("DROP DATABASE legacy")


def test_a_store_partitioned_by_month_converts_to_weeks_with_the_same_totals(
    chdb_path: Path,
) -> None:
    """A schema-2 store of the previous release (sessions partitioned by month) is copied
    once into weekly partitions; a copy killed after its swap leaves ``sessions_legacy``,
    which the next start drops. Counts and masks are not touched, so totals stay."""
    url = f"chdb://{chdb_path}?database=monthly"
    store = open_store(url)
    sink = BatchingSink(store, max_rows=10_000)
    opened = [T - 20 * DAY + n * DAY // 10 for n in range(400)]  # 40 days: 2 months, 7 weeks
    sessions = [session(n, at, ("usage", "voice", "alert")[n % 3]) for n, at in enumerate(opened)]
    for each in sessions:
        sink.add(each)
    sink.add(AgentActivity("a", "x", T + QUARTER))
    sink.flush()
    before = aggregated(store, "week", "Asia/Kolkata", T - 30 * DAY, T + 30 * DAY)
    monthly = store.query("SHOW CREATE TABLE monthly.sessions")[0][0]
    store.command("DROP TABLE monthly.sessions")
    store.command(monthly.replace("toMonday(opened_at)", "toYYYYMM(opened_at)"))
    store.command("CREATE TABLE monthly.sessions_legacy (x UInt8) ENGINE = Memory")
    for each in sessions + sessions:  # the raw sessions as the monthly store held them, twice
        sink.add(each)
    sink.flush()
    steps = store.ensure_schema()
    assert steps == [
        "copied sessions into a table ordered by (app_id, opened_at), partitioned by week"
    ]
    assert store.ensure_schema() == []  # once
    tables = store.query("SELECT name, partition_key FROM system.tables WHERE database = 'monthly'")
    assert ("sessions", "toMonday(opened_at)") in tables
    assert all(name != "sessions_legacy" for name, _ in tables)
    partitions = store.query(
        "SELECT uniqExact(partition) FROM system.parts "
        "WHERE database = 'monthly' AND table = 'sessions' AND active"
    )
    days = {datetime.fromtimestamp(at / 1000, UTC) for at in opened}
    mondays = {day.date().toordinal() - day.weekday() for day in days}
    assert partitions == [(len(mondays),)] == [(7,)]
    after = aggregated(store, "week", "Asia/Kolkata", T - 30 * DAY, T + 30 * DAY)
    assert after == before
    assert after == direct(store, "week", "Asia/Kolkata", T - 30 * DAY, T + 30 * DAY)
    assert sum(after.values()) == 400
    store.command("DROP DATABASE monthly")


WRITER = """
import sys
from schemas.billing_session import BillingSession
from sinks.base import BatchingSink
from sinks.clickhouse.store import open_store
store = open_store(sys.argv[1])
sink = BatchingSink(store, max_rows=2_000)
for n in range(int(sys.argv[2])):
    sink.add(BillingSession(f"a/c{n}/0@0/usage/0", "usage", "a", f"c{n}", 0, 0, "web",
                            {t} + (n * 7_919) % (3 * 86_400_000)))
    if n == 2_000:
        print("writing", flush=True)
sink.flush()
print("done", flush=True)
""".replace("{t}", str(T))


CHECK = f"""
import sys
from sinks.clickhouse.store import open_store
from tests.integration.test_aggregates import aggregated, direct
store = open_store(sys.argv[1])
rows = store.usage_rows(by="month", start_ms={T - 30 * DAY}, end_ms={T + 30 * DAY},
                        app_id=None, sum_apps=True)
span = ("day", "Asia/Kolkata", {T - DAY}, {T + 4 * DAY})
print(sum(r[2] for r in rows), aggregated(store, *span) == direct(store, *span))
"""


def test_a_sink_killed_mid_batch_then_run_again_leaves_exact_totals(tmp_path: Path) -> None:
    url = f"chdb://{tmp_path / 'kill'}"
    count = 60_000
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, url, str(count)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "writing"
    time.sleep(random.uniform(0.05, 0.5))
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    again = subprocess.run(  # the batch is delivered again, as Kafka would
        [sys.executable, "-c", WRITER, url, str(count)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert again.stdout.strip().endswith("done")
    checked = subprocess.run(  # one chdb path per process: read it from a fresh one
        [sys.executable, "-c", CHECK, url],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
        cwd=Path(__file__).resolve().parents[2],
    )
    total, same = checked.stdout.split()
    assert (int(total), same) == (count, "True")


def test_timestamps_are_utc_instants() -> None:
    assert datetime.fromtimestamp(T / 1000, UTC).isoformat() == "2025-11-26T00:00:00+00:00"
