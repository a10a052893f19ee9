"""The meter's spine against a fake of its Kafka port: merge, offsets, failures, revocation."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from prometheus_client import CollectorRegistry

from agents import changelog
from agents.kafka.records import Delivery, Opened, Record
from agents.meter import Meter
from agents.metrics import BillingMetrics
from agents.settings import WorkerSettings
from schemas import billing_session, dead_letter
from tests.agents.fakes import FakeLink
from tests.factories import T0

TURNS, TRANSFERS, ALERTS = "conversation-turns", "agent-transfers", "alert-deliveries"
NOW_S = T0 / 1000 + 3600  # the worker clock: an hour after the events


def value(event_id: str, minutes: float, **extra: object) -> bytes:
    body = {
        "event_id": event_id,
        "app_id": "app-1",
        "conversation_id": "c-1",
        "channel": "web",
        "occurred_at": T0 + int(minutes * 60_000),
        **extra,
    }
    return orjson.dumps(body)


def turn(offset: int, minutes: float, seq: int) -> Record:
    ts = T0 + int(minutes * 60_000)
    return Record(TURNS, 0, offset, ts, b"c-1", value(f"t{offset}", minutes, actor="user"), seq)


def to_agent(offset: int, minutes: float, seq: int) -> Record:
    body = value(f"x{offset}", minutes, direction="to_agent", agent_id="a-1")
    return Record(TRANSFERS, 0, offset, T0 + int(minutes * 60_000), b"c-1", body, seq)


def make_meter(link: FakeLink, clock: list[float]) -> Meter:
    meter = Meter(
        WorkerSettings(max_hold_s=1.0),
        link,
        BillingMetrics.create(CollectorRegistry()),
        clock=lambda: clock[0],
    )
    link.epochs[0] = 1
    meter.open(Opened(0, 1, changelog.Restorer(), {TURNS: 0, TRANSFERS: 0, ALERTS: 0}))
    return meter


def drain(meter: Meter, link: FakeLink, clock: list[float], delivery: Delivery) -> None:
    """Process a delivery, then again once the hold has passed with transfers idle."""
    asyncio.run(meter.process(delivery))
    clock[0] += 2
    link.caught_up[(TRANSFERS, 0)] = clock[0]
    asyncio.run(meter.process(Delivery({}, dict(delivery.epochs))))


def sessions(link: FakeLink) -> list[str]:
    return [
        billing_session.decode(o.value).session_id
        for _, outputs, _ in link.log
        for o in outputs
        if o.topic == billing_session.TOPIC and o.value is not None
    ]


def test_a_turn_waits_for_the_other_topic_and_its_offset_stays_uncommitted() -> None:
    link, clock = FakeLink(), [NOW_S]
    meter = make_meter(link, clock)
    asyncio.run(meter.process(Delivery({0: [turn(0, 0, 1), turn(1, 20, 3)]}, {0: 1})))
    assert link.log == []  # transfers may still deliver something ordered before them
    asyncio.run(meter.process(Delivery({0: [to_agent(0, 10, 2)]}, {0: 1})))
    (_, _, offsets) = link.log[-1]
    # t0 and x0 released in merged order; t1 (20 min) waits: transfers may still deliver
    assert offsets == {TURNS: 1, TRANSFERS: 1, ALERTS: 0}
    assert meter.tasks[0].merger.held() == 1


def test_an_idle_topic_releases_held_records_only_a_hold_after_they_were_fetched() -> None:
    link, clock = FakeLink(), [NOW_S]
    meter = make_meter(link, clock)
    link.caught_up[(TRANSFERS, 0)] = NOW_S
    asyncio.run(meter.process(Delivery({0: [turn(0, 0, 1)]}, {0: 1})))
    assert link.log == []
    clock[0] = NOW_S + 1.5
    link.caught_up[(TRANSFERS, 0)] = NOW_S + 1.2  # a fetch response after the hold
    asyncio.run(meter.process(Delivery({}, {0: 1})))
    assert link.log[-1][2][TURNS] == 1
    assert len(sessions(link)) == 1


def test_a_failed_checkpoint_drops_the_task_and_reopens_the_partition() -> None:
    link, clock = FakeLink(), [NOW_S]
    meter = make_meter(link, clock)
    link.fail_next = True
    drain(meter, link, clock, Delivery({0: [turn(0, 0, 1)]}, {0: 1}))
    assert link.log == [] and link.resets == [0] and 0 not in meter.tasks
    # nothing counted for a batch that was not committed
    assert meter.metrics.events.labels(TURNS, "accepted")._value.get() == 0


def test_a_revocation_mid_batch_commits_nothing_and_the_new_owner_starts_clean() -> None:
    link, clock = FakeLink(), [NOW_S + 5]
    meter = make_meter(link, clock)
    link.revoke_during_checkpoint = meter
    drain(meter, link, clock, Delivery({0: [turn(0, 0, 1)]}, {0: 1}))
    assert link.log == [] and 0 not in meter.tasks
    # reassigned: opened again from the (empty) changelog at the committed offset 0
    link.revoke_during_checkpoint = None
    link.epochs[0] = 2
    meter.open(
        Opened(
            0, 2, changelog.restorer_of(link.changelog_of(0)), {TURNS: 0, TRANSFERS: 0, ALERTS: 0}
        )
    )
    stale = Delivery({0: [turn(1, 1, 2)]}, {0: 1})  # fetched in the old epoch
    drain(meter, link, clock, stale)
    assert link.log == []
    drain(meter, link, clock, Delivery({0: [turn(0, 0, 1)]}, {0: 2}))
    assert sessions(link) == ["app-1/c-1/0@" + str(T0) + "/usage/0"]


def test_re_delivered_records_below_the_next_offset_are_not_applied_twice() -> None:
    link, clock = FakeLink(), [NOW_S + 5]
    meter = make_meter(link, clock)
    batch = [turn(0, 0, 1), turn(1, 16, 2)]
    drain(meter, link, clock, Delivery({0: batch}, {0: 1}))
    drain(meter, link, clock, Delivery({0: batch}, {0: 1}))
    assert len(sessions(link)) == 2
    assert meter.metrics.events.labels(TURNS, "accepted")._value.get() == 2


def test_state_restored_from_the_changelog_continues_exactly() -> None:
    link, clock = FakeLink(), [NOW_S + 5]
    meter = make_meter(link, clock)
    drain(meter, link, clock, Delivery({0: [turn(0, 0, 1), turn(1, 10, 2)]}, {0: 1}))
    restored = changelog.restore(link.changelog_of(0))
    assert restored.conversations == meter.tasks[0].state.conversations
    assert restored.seen == meter.tasks[0].state.seen
    assert restored.conversation_stream_ms == T0 + 10 * 60_000


def test_invalid_and_late_records_are_dead_lettered_with_their_reason() -> None:
    link, clock = FakeLink(), [NOW_S + 5]
    meter = make_meter(link, clock)
    late = Record(TURNS, 0, 2, T0, b"c-1", value("old", -25 * 60, actor="user"), 3)
    broken = Record(TURNS, 0, 1, T0, b"c-1", b"{not json", 2)
    drain(meter, link, clock, Delivery({0: [turn(0, 0, 1), broken, late]}, {0: 1}))
    letters = [
        dead_letter.decode(o.value).reason_code
        for _, outputs, _ in link.log
        for o in outputs
        if o.topic == dead_letter.TOPIC and o.value is not None
    ]
    assert letters == ["invalid_json", "late"]
    assert meter.metrics.events.labels(TURNS, "late")._value.get() == 1


@pytest.mark.parametrize("minutes", [30, 60 * 30])
def test_a_sweep_frees_only_what_the_rules_forgot(minutes: int) -> None:
    link, clock = FakeLink(), [T0 / 1000 + 31 * 3600]
    meter = make_meter(link, clock)
    body = value("o", minutes, actor="user", conversation_id="c-2")
    other = Record(TURNS, 0, 1, T0 + minutes * 60_000, b"c-2", body, 2)
    drain(meter, link, clock, Delivery({0: [turn(0, 0, 1), other]}, {0: 1}))
    asyncio.run(meter.sweep())
    kept = "app-1\x1fc-1" in meter.tasks[0].state.conversations
    assert kept == (minutes < 24 * 60)
    restored = changelog.restore(link.changelog_of(0))
    assert restored.conversations == meter.tasks[0].state.conversations


def test_stream_time_never_passes_the_workers_clock() -> None:
    """An event 23 h ahead is valid, but stream time stops at the (injected) clock."""
    link, clock = FakeLink(), [NOW_S]
    meter = make_meter(link, clock)
    ahead = (NOW_S + 23 * 3600 - T0 / 1000) / 60
    drain(meter, link, clock, Delivery({0: [turn(0, ahead, 1)]}, {0: 1}))
    assert len(sessions(link)) == 1
    stream_ms = changelog.restore(link.changelog_of(0)).conversation_stream_ms
    assert stream_ms == int(clock[0] * 1000) < T0 + int(ahead * 60_000)
    # an event 23 h behind the clock is within retention of that stream time: not late
    behind = (NOW_S - 23 * 3600 - T0 / 1000) / 60
    drain(meter, link, clock, Delivery({0: [turn(1, behind, 2)]}, {0: 1}))
    assert meter.metrics.events.labels(TURNS, "late")._value.get() == 0


def test_a_topic_whose_queue_is_full_is_paused_until_it_drains() -> None:
    link, clock = FakeLink(), [NOW_S]
    meter = Meter(
        WorkerSettings(max_hold_s=1.0, held_limit=4),
        link,
        BillingMetrics.create(CollectorRegistry()),
        clock=lambda: clock[0],
    )
    link.epochs[0] = 1
    meter.open(Opened(0, 1, changelog.Restorer(), {TURNS: 0, TRANSFERS: 0, ALERTS: 0}))
    asyncio.run(meter.process(Delivery({0: [turn(i, i, 0) for i in range(5)]}, {0: 1})))
    assert link.paused == {(TURNS, 0)} and link.log == []  # 5 held > 4: fetch no more
    assert meter.metrics.merge_held.labels(TURNS, "0")._value.get() == 5
    clock[0] += 2
    link.caught_up[(TRANSFERS, 0)] = clock[0]  # transfers idle for a hold: they go
    asyncio.run(meter.process(Delivery({}, {0: 1})))
    assert link.paused == set() and link.log[-1][2][TURNS] == 5
    assert meter.metrics.merge_held.labels(TURNS, "0")._value.get() == 0
