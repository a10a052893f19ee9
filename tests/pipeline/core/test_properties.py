"""Property-based tests of the core (hypothesis)."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from agents.changelog import changes, restore
from pipeline.core.config import HOUR_MS, MINUTE_MS, MeterConfig, slice_index
from pipeline.core.meter import Event, Outcome, apply_event
from pipeline.core.state import PartitionState
from schemas.billing_session import BillingSession
from tests.factories import T0, alert, transfer, turn

CFG = MeterConfig()
NOW = T0 + 400 * 24 * HOUR_MS

# One step of a random trace: (gap in seconds, what happens, which conversation, agent)
steps = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=20 * 60),
        st.sampled_from(["user", "bot", "agent", "to_agent", "to_bot", "end", "alert"]),
        st.integers(min_value=0, max_value=3),
        st.integers(min_value=0, max_value=2),
    ),
    min_size=1,
    max_size=60,
)


def build(trace: list[tuple[int, str, int, int]]) -> list[Event]:
    events: list[Event] = []
    now = T0
    for index, (gap, what, conv, agent) in enumerate(trace):
        now += gap * 1000
        common = {"conv": f"c-{conv}", "channel": "voice" if conv % 2 else "web", "ms": now}
        event_id = f"e{index}"
        if what in ("to_agent", "to_bot"):
            events.append(transfer(event_id, direction=what, agent=f"a{agent}", **common))
        elif what == "alert":
            events.append(alert(event_id, (now - T0) / MINUTE_MS))
        else:
            events.append(
                turn(
                    event_id,
                    actor="user" if what == "end" else what,
                    agent=f"a{agent}",
                    ends=what == "end",
                    **common,
                )
            )
    return events


def run(events: list[Event], part: PartitionState | None = None) -> list[Outcome]:
    part = PartitionState() if part is None else part
    return [apply_event(part, event, NOW, CFG) for event in events]


def sessions(outcomes: list[Outcome]) -> list[BillingSession]:
    return [s for outcome in outcomes for s in outcome.sessions]


@given(steps)
def test_sessions_never_decrease_as_events_are_added(
    trace: list[tuple[int, str, int, int]],
) -> None:
    events = build(trace)
    full = set(sessions(run(events)))
    for cut in range(len(events)):
        assert set(sessions(run(events[:cut]))) <= full


@given(steps, st.randoms(use_true_random=False))
def test_redelivery_changes_nothing(
    trace: list[tuple[int, str, int, int]], rnd: random.Random
) -> None:
    events = build(trace)
    redelivered = list(events)
    for event in events:  # re-deliver some events again, later, as Kafka would
        if rnd.random() < 0.4:
            first = redelivered.index(event)
            redelivered.insert(rnd.randint(first + 1, len(redelivered)), event)
    outcomes = run(redelivered)
    assert sessions(outcomes) == sessions(run(events))
    assert sum(o.duplicate for o in outcomes) == len(redelivered) - len(events)


@given(steps, st.lists(st.integers(min_value=1, max_value=10), min_size=1))
def test_batches_with_state_carried_over_give_the_same_sessions(
    trace: list[tuple[int, str, int, int]], sizes: list[int]
) -> None:
    events = build(trace)
    part = PartitionState()
    log: list[tuple[bytes, bytes | None]] = []
    batched: list[Outcome] = []
    start = 0
    for size in sizes * len(events):
        if start >= len(events):
            break
        # the state leaves the process between batches, through the changelog
        part = restore(log)
        batched += run(events[start : start + size], part)
        log += [(o.key or b"", o.value) for o in changes(part, 0)]
        start += size
    assert sessions(batched) == sessions(run(events))


@settings(max_examples=200)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=15 * 60_000),
            st.sampled_from(["user", "to_agent", "to_bot"]),
        ),
        min_size=1,
    )
)
def test_usage_sessions_match_a_reference_bot_clock(trace: list[tuple[int, str]]) -> None:
    """Model check: usage sessions = k(bot time) + 1, bot time summed independently."""
    now, bot_time, on_agent = T0, 0, False
    events: list[Event] = []
    for index, (gap, what) in enumerate(trace):
        now += gap  # never more than IDLE_TIMEOUT: one segment
        bot_time += 0 if on_agent or index == 0 else gap
        if what == "user":
            events.append(turn(f"e{index}", ms=now))
        else:
            events.append(transfer(f"e{index}", direction=what, ms=now))
            on_agent = what == "to_agent"
    usage = [s for s in sessions(run(events)) if s.kind == "usage"]
    assert len(usage) == slice_index(bot_time, CFG.slice_ms) + 1
    assert [s.slice for s in usage] == list(range(len(usage)))
