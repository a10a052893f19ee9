"""The fetch watchdog: partitions with records waiting and none fetched are woken, others not."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import NamedTuple

import pytest

from agents.guard import OffsetGuard
from agents.watchdog import FetchWatchdog


class TP(NamedTuple):
    topic: str
    partition: int


TURNS = TP("conversation-turns", 4)
CHANGELOG = TP("billing-meter-meter-conversations-changelog", 4)


@dataclass
class Consumer:
    assigned: set[TP] = field(default_factory=lambda: {TURNS, CHANGELOG})
    ends: dict[TP, int] = field(default_factory=dict)
    _read_offset: dict[TP, int | None] = field(default_factory=dict)
    _committed_offset: dict[TP, int] = field(default_factory=dict)
    resumed: list[TP] = field(default_factory=list)
    seeks: list[tuple[TP, int]] = field(default_factory=list)
    asked: list[tuple[TP, ...]] = field(default_factory=list)

    def assignment(self) -> set[TP]:
        return self.assigned

    async def highwaters(self, *tps: TP) -> dict[TP, int]:
        self.asked.append(tps)
        return {tp: self.ends.get(tp, 0) for tp in tps}

    def resume_partitions(self, tps: set[TP]) -> None:
        self.resumed.extend(tps)

    async def seek(self, tp: TP, offset: int) -> None:
        self.seeks.append((tp, offset))


@dataclass
class Completed:
    done: bool = True

    def is_set(self) -> bool:
        return self.done


@dataclass
class Recovery:
    completed: Completed = field(default_factory=Completed)


@dataclass
class Tables:
    recovery: Recovery = field(default_factory=Recovery)


@dataclass
class App:
    consumer: Consumer = field(default_factory=Consumer)
    tables: Tables = field(default_factory=Tables)
    rebalancing: bool = False
    in_recovery: bool = False


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make(app: App) -> tuple[FetchWatchdog, OffsetGuard, Clock, list[str]]:
    clock = Clock()
    guard = OffsetGuard(app)
    dog = FetchWatchdog(
        app, guard, lambda tp: "changelog" not in tp.topic, clock=clock, stall_after_s=15
    )
    woken: list[str] = []
    dog.on_wake = woken.append
    return dog, guard, clock, woken


def ticks(dog: FetchWatchdog, clock: Clock, seconds: list[float]) -> None:
    async def run() -> None:
        for at in seconds:
            clock.now = 100.0 + at
            await dog.check()

    asyncio.run(run())


def test_a_partition_with_records_and_no_fetch_is_woken_once_per_stall(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = App()
    app.consumer.ends = {TURNS: 500, CHANGELOG: 90}
    dog, guard, clock, woken = make(app)
    guard.expected[TURNS] = 120  # processed up to 119; nothing handed out since
    app.consumer._read_offset[TURNS] = 119
    ticks(dog, clock, [0, 5, 10])
    assert app.consumer.seeks == []  # not yet 15 s
    ticks(dog, clock, [15])
    assert app.consumer.seeks == [(TURNS, 120)]
    assert app.consumer.resumed == [TURNS]
    assert woken == ["conversation-turns"]
    assert "partition stalled with records waiting" in caplog.text
    ticks(dog, clock, [20, 25])
    assert len(app.consumer.seeks) == 1  # the clock restarted at the wake
    ticks(dog, clock, [30])
    assert app.consumer.seeks == [(TURNS, 120), (TURNS, 120)]
    assert all(CHANGELOG not in asked for asked in app.consumer.asked)


def test_no_wake_while_records_are_on_their_way() -> None:
    app = App()
    app.consumer.ends = {TURNS: 500}
    dog, guard, clock, woken = make(app)
    guard.expected[TURNS] = 120
    app.consumer._read_offset[TURNS] = 300  # handed out past the next offset: buffered
    ticks(dog, clock, [0, 10, 20, 40])
    assert woken == []
    assert app.consumer.asked == []


def test_no_wake_when_nothing_is_waiting() -> None:
    app = App()
    app.consumer.ends = {TURNS: 120}
    dog, guard, clock, woken = make(app)
    guard.expected[TURNS] = 120
    ticks(dog, clock, [0, 20, 40])
    assert woken == []
    assert app.consumer.seeks == []


def test_progress_restarts_the_clock() -> None:
    app = App()
    app.consumer.ends = {TURNS: 500}
    dog, guard, clock, woken = make(app)
    for at, offset in [(0, 120), (10, 130), (20, 140), (30, 150)]:
        guard.expected[TURNS] = offset
        ticks(dog, clock, [at])
    assert woken == []


def test_nothing_while_rebalancing_and_the_clocks_restart_after() -> None:
    app = App()
    app.consumer.ends = {TURNS: 500}
    dog, guard, clock, woken = make(app)
    guard.expected[TURNS] = 120
    ticks(dog, clock, [0])
    app.rebalancing = True
    ticks(dog, clock, [10, 20])
    app.rebalancing = False
    ticks(dog, clock, [25])
    assert woken == []  # stalled since 25, not since 0
    ticks(dog, clock, [40])
    assert woken == ["conversation-turns"]


def test_a_partition_never_read_resumes_at_its_committed_offset_else_zero() -> None:
    app = App()
    other = TP("alert-deliveries", 4)
    app.consumer.assigned = {TURNS, other}
    app.consumer.ends = {TURNS: 500, other: 7}
    app.consumer._committed_offset[TURNS] = 42
    dog, _guard, clock, _woken = make(app)
    ticks(dog, clock, [0, 15])
    assert sorted(app.consumer.seeks) == [(other, 0), (TURNS, 42)]


def test_unwatched_partitions_are_left_alone() -> None:
    app = App()
    app.consumer.assigned = {CHANGELOG}
    app.consumer.ends = {CHANGELOG: 90}
    dog, _guard, clock, woken = make(app)
    ticks(dog, clock, [0, 15, 30])
    assert woken == []
