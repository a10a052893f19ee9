"""The one driver loop (``pipeline.spine.drive``) with the meter and the sink's steps, on
fakes: what each composition commits, in which order, and when it stops."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry

from agents import changelog
from agents.kafka.records import Delivery, Opened
from agents.meter import Meter
from agents.metrics import BillingMetrics
from agents.settings import WorkerSettings
from pipeline.spine import Batch, Offsets, OneAhead, Serialized, drive
from schemas import billing_session
from tests.agents.fakes import FakeLink
from tests.agents.test_meter import ALERTS, NOW_S, TRANSFERS, TURNS, turn

START = {TURNS: 0, TRANSFERS: 0, ALERTS: 0}


def meter_on(link: FakeLink, clock: list[float], sweep_s: float = 30.0) -> Meter:
    settings = WorkerSettings(max_hold_s=0.0, sweep_interval_s=sweep_s)
    metrics = BillingMetrics.create(CollectorRegistry())
    return Meter(settings, link, metrics, clock=lambda: clock[0])


def test_the_driver_opens_what_a_fetch_opened_applies_and_commits_with_the_offsets() -> None:
    link, clock = FakeLink(), [NOW_S]
    meter = meter_on(link, clock)
    link.epochs[0] = 1
    link.caught_up[(TRANSFERS, 0)] = NOW_S  # transfers read to their end: turns may go
    opened = Opened(0, 1, changelog.Restorer(), dict(START))
    link.script = [Delivery({0: [turn(0, 0, 1), turn(1, 16, 2)]}, {0: 1}, [opened])]
    asyncio.run(drive(link, meter, link.stop, 0.0))
    assert link.fetches == 2  # the scripted delivery, then an empty one that stops it
    (partition, outputs, offsets) = link.log[0]
    assert partition == 0 and offsets == {TURNS: 2, TRANSFERS: 0, ALERTS: 0}
    assert [o.topic for o in outputs].count(billing_session.TOPIC) == 2
    assert any(o.topic == changelog.TOPIC for o in outputs)  # with its state, atomically


def test_a_partition_opened_in_an_epoch_that_ended_is_not_opened() -> None:
    link, clock = FakeLink(), [NOW_S]
    meter = meter_on(link, clock)
    link.epochs[0] = 2  # revoked and opened again after this fetch
    opened = Opened(0, 1, changelog.Restorer(), dict(START))
    link.script = [Delivery({0: [turn(0, 0, 1)]}, {0: 1}, [opened])]
    asyncio.run(drive(link, meter, link.stop, 0.0))
    assert meter.tasks == {} and link.log == []


@pytest.mark.parametrize(("advance_s", "swept"), [(0.0, False), (31.0, True)])
def test_poll_sweeps_only_when_the_interval_has_passed(advance_s: float, swept: bool) -> None:
    link, clock = FakeLink(), [NOW_S]
    meter = meter_on(link, clock)
    link.epochs[0] = 1
    meter.open(Opened(0, 1, changelog.Restorer(), dict(START)))
    clock[0] += advance_s
    asyncio.run(drive(link, meter, link.stop, 0.0))
    assert (len(link.log) == 1) == swept  # a sweep commits each owned partition once
    assert meter.last_sweep == (NOW_S + advance_s if swept else NOW_S)


class Source:
    """A fake consumer: scripted batches, then nothing (and ``stop`` once drained)."""

    def __init__(self, batches: list[Batch[list[int]]], idle_fetches: int = 1) -> None:
        self.batches, self.idle = batches, idle_fetches
        self.stop = asyncio.Event()

    async def fetch(self, timeout_s: float) -> Batch[list[int]] | None:
        await asyncio.sleep(0)
        if self.batches:
            return self.batches.pop(0)
        self.idle -= 1
        if self.idle <= 0:
            self.stop.set()
        return None


class Writer:
    def __init__(self, log: list[str], fail: bool = False) -> None:
        self.log, self.fail = log, fail

    async def decode(self, payload: list[int]) -> int:
        return sum(payload)

    async def write(self, decoded: int) -> None:
        await asyncio.sleep(0)
        if self.fail:
            raise RuntimeError("gave up")
        self.log.append(f"write {decoded}")


def sink_run(source: Source, writer: Writer, log: list[str]) -> None:
    async def commit(offsets: Offsets) -> None:
        log.append(f"commit {offsets['s', 0]}")

    step: OneAhead[list[int], int] = OneAhead(writer, commit)
    asyncio.run(drive(source, Serialized(step, asyncio.Lock()), source.stop, 0.0))


def test_the_sink_composition_commits_each_batch_after_its_write_in_order() -> None:
    log: list[str] = []
    source = Source([Batch([1, 2], {("s", 0): 2}), Batch([3], {("s", 0): 3})], idle_fetches=3)
    sink_run(source, Writer(log), log)
    assert log == ["write 3", "commit 2", "write 3", "commit 3"]


def test_poll_commits_a_finished_write_without_waiting_for_the_next_batch() -> None:
    log: list[str] = []
    source = Source([Batch([5], {("s", 0): 1})], idle_fetches=3)

    async def scenario() -> None:
        async def commit(offsets: Offsets) -> None:
            log.append(f"commit {offsets['s', 0]} at idle {source.idle}")

        step: OneAhead[list[int], int] = OneAhead(Writer(log), commit)
        await drive(source, step, source.stop, 0.0)

    asyncio.run(scenario())
    # committed by a poll while fetches came back empty (the source stops at idle 0),
    # not by the final join
    assert log == ["write 5", "commit 1 at idle 1"]


def test_a_write_that_gave_up_stops_the_loop_and_commits_nothing() -> None:
    log: list[str] = []
    source = Source([Batch([1], {("s", 0): 1})], idle_fetches=5)
    with pytest.raises(RuntimeError, match="gave up"):
        sink_run(source, Writer(log, fail=True), log)
    assert log == []


def test_a_revocation_joining_under_the_lock_waits_for_the_submit_in_hand() -> None:
    """The sink link's rebalance callback joins the step under the lock the driver holds
    for each call, so it never sees a batch half submitted."""
    log: list[str] = []

    async def scenario() -> None:
        lock = asyncio.Lock()
        gate = asyncio.Event()

        class SlowWriter(Writer):
            async def decode(self, payload: list[int]) -> int:
                await gate.wait()
                return sum(payload)

        async def commit(offsets: Offsets) -> None:
            log.append(f"commit {offsets['s', 0]}")

        step: OneAhead[list[int], int] = OneAhead(SlowWriter(log), commit)
        submitting = asyncio.create_task(Serialized(step, lock).submit(Batch([7], {("s", 0): 9})))
        await asyncio.sleep(0)

        async def revoked() -> None:
            async with lock:
                await step.join()
                log.append("revoked")

        revoking = asyncio.create_task(revoked())
        await asyncio.sleep(0)
        assert log == []  # the revocation waits while the batch is decoded
        gate.set()
        await asyncio.gather(submitting, revoking)

    asyncio.run(scenario())
    assert log == ["write 7", "commit 9", "revoked"]
