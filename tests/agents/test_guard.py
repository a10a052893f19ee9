"""The offset guard: records Faust delivers past a skip are refused and read again."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from intervaltree import IntervalTree

from agents.guard import OffsetGuard


class TP(NamedTuple):
    topic: str
    partition: int


@dataclass
class Message:
    tp: TP
    offset: int
    acked: bool = False

    def __hash__(self) -> int:
        return id(self)


@dataclass
class Event:
    message: Message


@dataclass
class Consumer:
    _unacked_messages: set[Message] = field(default_factory=set)
    _gap: dict[TP, IntervalTree] = field(default_factory=dict)
    _committed_offset: dict[TP, int] = field(default_factory=dict)
    seeks: list[tuple[TP, int]] = field(default_factory=list)

    async def seek(self, tp: TP, offset: int) -> None:
        self.seeks.append((tp, offset))


@dataclass
class App:
    consumer: Consumer = field(default_factory=Consumer)


TURNS = TP("conversation-turns", 3)


def deliver(guard: OffsetGuard, app: App, tp: TP, offsets: list[int]) -> list[int]:
    """The offsets the guard admits, in order."""

    async def run() -> list[int]:
        admitted = []
        for offset in offsets:
            message = Message(tp, offset)
            app.consumer._unacked_messages.add(message)
            if await guard.admit(Event(message)):
                admitted.append(offset)
        return admitted

    return asyncio.run(run())


def test_records_in_order_and_reads_again_are_admitted() -> None:
    app = App()
    guard = OffsetGuard(app)
    assert deliver(guard, app, TURNS, [10, 11, 12, 11, 12, 13]) == [10, 11, 12, 11, 12, 13]
    assert app.consumer.seeks == []


def test_a_skip_is_refused_and_the_partition_read_again_from_the_expected_offset() -> None:
    app = App()
    guard = OffsetGuard(app)
    app.consumer._gap[TURNS] = IntervalTree.from_tuples([(1099, 1187)])
    # 1099..1185 skipped by the consumer; 1186, 1187 prefetched; then the re-read from 1099
    admitted = deliver(guard, app, TURNS, [1097, 1098, 1186, 1187, 1099, 1100, 1101])
    assert admitted == [1097, 1098, 1099, 1100, 1101]
    assert app.consumer.seeks == [(TURNS, 1099)]  # once per skip
    assert not app.consumer._gap[TURNS]  # Faust may not commit past the skipped records
    refused = [m for m in app.consumer._unacked_messages if m.offset in {1186, 1187}]
    assert refused == []  # not waited for at the next rebalance
    assert guard.rewinds == 1


def test_each_skip_is_reported_once_to_the_hook() -> None:
    app = App()
    guard = OffsetGuard(app)
    seen: list[str] = []
    guard.on_rewind = seen.append
    deliver(guard, app, TURNS, [1, 3, 4, 2, 3, 9])
    assert seen == ["conversation-turns", "conversation-turns"]


def test_partitions_are_independent_and_forgotten_on_revoke() -> None:
    app = App()
    guard = OffsetGuard(app)
    other = TP("agent-transfers", 3)
    assert deliver(guard, app, TURNS, [5, 6]) == [5, 6]
    assert deliver(guard, app, other, [40, 41]) == [40, 41]
    guard.forget({TURNS})
    # a new owner resumes from the committed offset, wherever that is
    assert deliver(guard, app, TURNS, [90, 91]) == [90, 91]
    assert deliver(guard, app, other, [45]) == []
    assert app.consumer.seeks == [(other, 42)]


def test_the_first_record_after_an_assignment_is_checked_against_the_committed_offset() -> None:
    app = App()
    app.consumer._committed_offset[TURNS] = 39
    guard = OffsetGuard(app)
    assert deliver(guard, app, TURNS, [40, 41, 39, 40]) == [39, 40]
    assert app.consumer.seeks == [(TURNS, 39)]


def test_the_seek_is_repeated_when_the_stream_does_not_come_back() -> None:
    app = App()
    now = [0.0]
    guard = OffsetGuard(app, clock=lambda: now[0])
    deliver(guard, app, TURNS, [38, 40, 41])  # the consumer loop overwrote the seek
    assert app.consumer.seeks == [(TURNS, 39)]
    now[0] = 1.5
    assert deliver(guard, app, TURNS, [82, 39, 40]) == [39, 40]
    assert app.consumer.seeks == [(TURNS, 39), (TURNS, 39)]
    assert guard.rewinds == 1  # one skip, sought twice


def test_the_timer_seeks_again_when_nothing_more_arrives() -> None:
    app = App()
    now = [0.0]
    guard = OffsetGuard(app, clock=lambda: now[0])
    deliver(guard, app, TURNS, [38, 40])
    asyncio.run(guard.retry())
    assert app.consumer.seeks == [(TURNS, 39)]  # not yet: the first seek may still work
    now[0] = 1.0
    asyncio.run(guard.retry())
    assert app.consumer.seeks == [(TURNS, 39), (TURNS, 39)]
    assert deliver(guard, app, TURNS, [39]) == [39]
    now[0] = 5.0
    asyncio.run(guard.retry())
    assert len(app.consumer.seeks) == 2  # back in order: nothing to do


def test_refused_messages_are_marked_so_faust_never_acks_them() -> None:
    app = App()
    guard = OffsetGuard(app)
    deliver(guard, app, TURNS, [1])
    message = Message(TURNS, 3)

    async def run() -> Any:
        return await guard.admit(Event(message))

    assert asyncio.run(run()) is False
    assert message.acked
