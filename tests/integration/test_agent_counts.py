"""Distinct agents from the quarter-hour masks, on the real embedded engine, against a
plain Python count over the same activity: any zone, granularity and range (aligned to
quarter-hours or not), with re-deliveries and several unmerged parts."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.agent_activity import AgentActivity
from sinks.base import BatchingSink
from sinks.clickhouse.store import ClickHouseStore
from tests.conftest import StoreFactory

pytestmark = pytest.mark.integration

DAY, HOUR, QUARTER = 86_400_000, 3_600_000, 900_000
T = 1_764_115_200_000  # 2025-11-26T00:00:00Z
ZONES = ["UTC", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns", "Europe/Berlin"]


def local_period(quarter_ms: int, by: str, tz: str) -> datetime:
    """The start of the zone's period holding the instant, as a naive UTC datetime."""
    local = datetime.fromtimestamp(quarter_ms / 1000, ZoneInfo(tz))
    if by == "hour":
        start = local.replace(minute=0, second=0, microsecond=0)
    else:
        start = datetime.combine(local.date(), datetime.min.time(), ZoneInfo(tz))
        if by == "week":
            start -= timedelta(days=local.weekday())
        elif by == "month":
            start = start.replace(day=1)
    return start.astimezone(UTC).replace(tzinfo=None)


def expected(activity: list[AgentActivity], by: str, tz: str, start: int, end: int) -> dict:
    """Distinct agents per (period, app) over the quarter-hours that start in range."""
    agents: dict[tuple[datetime, str], set[str]] = {}
    for a in activity:
        if start <= a.quarter_ms < end:
            key = (local_period(a.quarter_ms, by, tz), a.app_id)
            agents.setdefault(key, set()).add(a.agent_id)
    return {key: len(names) for key, names in agents.items()}


def reported(store: ClickHouseStore, by: str, tz: str, start: int, end: int) -> dict:
    rows = store.usage_rows(by=by, start_ms=start, end_ms=end, app_id=None, sum_apps=False, tz=tz)
    return {(period, app): agents for period, app, *_, agents in rows if agents}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.integers(0, 2**32),
    st.sampled_from(ZONES),
    st.sampled_from(["hour", "day", "week", "month"]),
)
def test_distinct_agents_equal_a_direct_count_in_any_zone_and_range(
    store_factory: StoreFactory, seed: int, tz: str, by: str
) -> None:
    rnd = random.Random(seed)
    store = store_factory()
    # dense in quarter-hours (a zone's boundary quarter is likely taken), sparse per agent
    # (often the agent's only quarter in its period): eight days, two apps, 60 agents
    activity = [
        AgentActivity(rnd.choice("ab"), f"agent-{rnd.randint(1, 60)}", T + q * QUARTER)
        for q in (rnd.randrange(8 * 96) for _ in range(rnd.randint(1, 300)))
    ]
    sink = BatchingSink(store, max_rows=rnd.randint(1, 40))  # several parts per day
    for _ in range(rnd.randint(1, 2)):  # re-delivered
        for record in rnd.sample(activity, len(activity)):
            sink.add(record)
        sink.flush()
    # ranges that begin and end at an active quarter-hour, on it or just after its start
    start = rnd.choice(activity).quarter_ms - rnd.choice([0, DAY]) + rnd.choice([0, 1, 420_000])
    end = max(rnd.choice(activity).quarter_ms, start) + rnd.choice([0, 1, QUARTER, 20 * DAY])
    assert reported(store, by, tz, start, end) == expected(activity, by, tz, start, end)


def test_an_agent_counts_once_in_a_period_it_was_active_in_twice(store: ClickHouseStore) -> None:
    sink = BatchingSink(store)
    for quarter in (0, 1, 73):  # 00:00, 00:15 and 18:15 UTC: one IST day (to 18:30 UTC)
        sink.add(AgentActivity("a", "x", T + quarter * QUARTER))
        sink.flush()
    sink.add(AgentActivity("a", "y", T + 74 * QUARTER))  # 18:30 UTC: the next IST day
    sink.flush()
    ist = reported(store, "day", "Asia/Kolkata", T - 6 * HOUR, T + DAY)
    assert ist == {
        (datetime(2025, 11, 25, 18, 30), "a"): 1,
        (datetime(2025, 11, 26, 18, 30), "a"): 1,
    }
