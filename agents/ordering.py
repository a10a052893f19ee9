"""The meter's merge of the conversation topics: SPEC 2b's order, with bounded holding.

The order itself is :mod:`pipeline.core.ordering`, the one replay uses. A consumer,
unlike replay, does not see a topic's next record before it has fetched it, so when
one topic has nothing queued the other topic's head must wait, as Kafka Streams'
``max.task.idle.ms`` does, until it is known that no record ordered before it can
still come: the empty topic is *idle*, read to its log end as of a fetch response
that came at least ``max_hold_s`` after the head was queued ("caught up" alone is not
enough: a producer's batch for one topic can reach the broker after a later batch for
the other). A head waits at most that long. No shortcut on what a topic delivered
before: records of one topic are not sorted by the merge key (producers' clocks,
several producers, any ``occurred_at``), so only a queued head says what comes next.

A topic whose queue passes ``held_limit`` records is paused by the meter until the
queue is half that again, so a stalled head never grows memory without bound.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from agents.kafka.records import Record
from pipeline.core.meter import Event
from pipeline.core.ordering import MERGED_TOPICS, Merge, Queued, position
from schemas.fields import ValidationError


class Admitted(NamedTuple):
    """A record taken in, decoded once (an invalid one carries its error)."""

    record: Record
    decoded: Event | ValidationError

    @property
    def occurred_ms(self) -> int:
        """Its ``occurred_at`` for the merge, 0 when invalid (it changes no state)."""
        decoded = self.decoded
        return 0 if isinstance(decoded, ValidationError) else decoded.occurred_at_ms


class StreamMerge:
    """One partition's merge in the meter."""

    __slots__ = ("max_hold_s", "merge")

    def __init__(self, max_hold_s: float) -> None:
        self.max_hold_s = max_hold_s
        self.merge: Merge[Admitted] = Merge()

    def add(self, admitted: Admitted, now_s: float) -> None:
        """Queue a conversation record (records of one topic arrive in offset order)."""
        r = admitted.record
        at = position(r.topic, r.ts_ms, r.seq, admitted.occurred_ms, r.offset)
        self.merge.push(at, admitted, now_s)

    def release(self, idle: Mapping[str, float], now_s: float) -> list[Admitted]:
        """Records that can be processed now, in merged order.

        ``idle``: for each topic read to its log end, when the fetch response that
        showed it arrived (seconds, the clock of ``now_s``).
        """
        hold = self.max_hold_s

        def may_pass(rank: int, head: Queued[Admitted]) -> bool:
            settled = head.since + hold
            return now_s >= settled and idle.get(MERGED_TOPICS[rank], -1.0) >= settled

        return self.merge.release(may_pass)

    def first_held(self, topic: str) -> int | None:
        """The offset of the first record of ``topic`` still held, if any."""
        return self.merge.first_offset(MERGED_TOPICS.index(topic))

    def held(self, topic: str | None = None) -> int:
        """How many records are held (of one topic, or of both)."""
        return self.merge.held(None if topic is None else MERGED_TOPICS.index(topic))
