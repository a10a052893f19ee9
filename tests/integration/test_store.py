"""The ClickHouse sink and the report on the real embedded engine (chdb)."""

from __future__ import annotations

import pytest

from pipeline.core.config import HOUR_MS, MeterConfig
from pipeline.eventfile import parse_line
from pipeline.replay import replay
from pipeline.tracegen import TraceSpec, generate
from schemas.agent_activity import AgentActivity
from schemas.billing_session import BillingSession
from schemas.dead_letter import DeadLetter
from schemas.fields import ValidationError
from sinks.base import BatchingSink
from sinks.clickhouse.store import ClickHouseStore
from tests.conftest import StoreFactory

pytestmark = pytest.mark.integration

MONDAY = 1_763_942_400_000  # 2025-11-24T00:00:00Z
DAY = 24 * HOUR_MS


def report(
    store: ClickHouseStore,
    by: str,
    start: int,
    end: int,
    *,
    app: str | None = None,
    sum_apps: bool = False,
    tz: str = "UTC",
) -> list[tuple[object, ...]]:
    return store.usage_rows(by=by, start_ms=start, end_ms=end, app_id=app, sum_apps=sum_apps, tz=tz)


def session(app: str, conv: str, kind: str, at_ms: int, slice_: int = 0) -> BillingSession:
    return BillingSession(
        f"{app}/{conv}/0/{kind}/{slice_}", kind, app, conv, 0, slice_, "voice", at_ms
    )


def test_reinserting_the_same_sessions_changes_no_total(store: ClickHouseStore) -> None:
    rows = [
        session("a", f"c{n}", kind, MONDAY + n * 1000)
        for n in range(50)
        for kind in ("usage", "voice")
    ]
    sink = BatchingSink(store, max_rows=7)
    for _ in range(3):  # a retried batch, a replay with other batch boundaries...
        for row in rows:
            sink.add(row)
        sink.flush()
    totals = [
        report(store, by, MONDAY, MONDAY + 31 * DAY, sum_apps=True)
        for by in ("hour", "day", "week", "month")
    ]
    for rows_by in totals:
        assert sum(r[2] for r in rows_by) == 50
        assert sum(r[3] for r in rows_by) == 50
    assert store.query(f"SELECT count() FROM {store.database}.sessions FINAL") == [(100,)]
    assert store.query(
        f"SELECT sum(usage), sum(voice) FROM {store.database}.session_counts FINAL"
    ) == [(50, 50)]


def test_distinct_agents_per_week_and_month_are_not_sums_of_days(store: ClickHouseStore) -> None:
    sink = BatchingSink(store)
    for day in range(7):  # a-1 every day of the week, a-2 on two days
        sink.add(AgentActivity("app-1", "a-1", MONDAY + day * DAY))
    for day in (1, 5):
        sink.add(AgentActivity("app-1", "a-2", MONDAY + day * DAY + 3 * HOUR_MS))
    sink.add(AgentActivity("app-2", "a-1", MONDAY))  # same agent in another app
    sink.flush()
    days = report(store, "day", MONDAY, MONDAY + 7 * DAY, app="app-1")
    assert [r[5] for r in days] == [1, 2, 1, 1, 1, 2, 1]
    week = report(store, "week", MONDAY, MONDAY + 7 * DAY)
    assert [(r[1], r[5]) for r in week] == [("app-1", 2), ("app-2", 1)]
    assert [r[5] for r in report(store, "week", MONDAY, MONDAY + 7 * DAY, sum_apps=True)] == [2]
    month = report(store, "month", 1_761_955_200_000, 1_764_547_200_000, sum_apps=True)
    assert [(str(r[0]), r[5]) for r in month] == [("2025-11-01 00:00:00", 2)]
    partial = report(store, "week", MONDAY + DAY, MONDAY + 3 * DAY, sum_apps=True)
    assert [r[5] for r in partial] == [2]  # Tuesday and Wednesday only: a-1, and a-2 Tuesday


def test_week_starts_monday_and_periods_are_utc(store: ClickHouseStore) -> None:
    sink = BatchingSink(store)
    sink.add(session("a", "sunday", "usage", MONDAY - 1))
    sink.add(session("a", "monday", "usage", MONDAY))
    sink.flush()
    weeks = report(store, "week", MONDAY - 7 * DAY, MONDAY + 7 * DAY)
    assert [(str(r[0]), r[2]) for r in weeks] == [
        ("2025-11-17 00:00:00", 1),
        ("2025-11-24 00:00:00", 1),
    ]


def test_same_alert_id_beyond_horizon_counts_the_same_in_every_rollup(
    store: ClickHouseStore,
) -> None:
    sink = BatchingSink(store)
    for at_ms in (MONDAY, MONDAY + 2 * DAY):
        sink.add(BillingSession("a/alert/d1", "alert", "a", "", 0, 0, "", at_ms))
    sink.flush()
    for by in ("hour", "day", "week", "month"):
        rows = report(store, by, MONDAY - 7 * DAY, MONDAY + 30 * DAY, sum_apps=True)
        assert sum(r[4] for r in rows) == 2, by


def test_dead_letters_are_kept_with_their_bytes(store: ClickHouseStore) -> None:
    sink = BatchingSink(store)
    error = ValidationError("actor", "bad_enum", "'robot' is not one of: agent, bot, user")
    letter = DeadLetter.from_error(
        error,
        source="kafka",
        topic="conversation-turns",
        partition=2,
        offset=7,
        raw=b'{"actor": "robot"}',
    )
    for _ in range(2):  # written twice (a redelivery): kept once
        sink.add(letter)
        sink.flush()
    assert store.query(
        f"SELECT partition, offset, reason_code, field, reason, raw FROM "
        f"{store.database}.dead_letters FINAL"
    ) == [(2, 7, "bad_enum", "actor", error.reason, '{"actor": "robot"}')]


def test_replaying_a_trace_twice_gives_the_same_report(store_factory: StoreFactory) -> None:
    lines = list(generate(TraceSpec(events=3_000, seed=7)))
    messages = [parse_line(line, n) for n, line in enumerate(lines, 1)]
    store = store_factory()
    first = replay(
        messages,
        BatchingSink(store, max_rows=500),
        MeterConfig(),
        "file:t",
        now_ms=TraceSpec().end_ms,
    )
    span = (TraceSpec().end_ms - 2 * DAY, TraceSpec().end_ms + DAY)
    once = report(store, "hour", *span)
    second = replay(
        messages,
        BatchingSink(store, max_rows=333),
        MeterConfig(),
        "file:t",
        now_ms=TraceSpec().end_ms,
    )
    assert first == second
    assert report(store, "hour", *span) == once
    usage = sum(r[2] for r in once)
    alerts = sum(r[4] for r in once)
    assert (usage, alerts) == (first.sessions["usage"], first.sessions["alert"])
    assert sum(r[3] for r in once) == first.sessions["voice"]
    letters = store.query(f"SELECT count() FROM {store.database}.dead_letters FINAL")
    assert letters == [(first.invalid,)]
    summaries = store.query(
        f"SELECT sum(usage_sessions), sum(voice_sessions) FROM {store.database}.conversations FINAL"
    )
    assert summaries == [(first.sessions["usage"], first.sessions["voice"])]
