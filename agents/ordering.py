"""Merging the conversation topics back into one order per partition (pure, no I/O).


``conversation-turns`` and ``agent-transfers`` are co-partitioned, but a consumer
receives their records in no defined order across the two topics. A conversation's
clocks depend on the order of its turns and transfers, so the meter merges partition
*p* of both topics as Kafka Streams does: each topic's records stay in offset order
(one FIFO queue per topic), and the next record is the queue head with the smallest
(timestamp, ``billing-seq``, topic rank, offset).

A head is released when no other topic can still deliver a record ordered before
it: each other topic either has a record waiting (then that record's position is
known), or has already delivered one ordered after the head (its *frontier*), or is
*idle*: read to its log end as of a fetch response that came at least ``max_hold_s``
after the head was fetched. "Caught up" alone is not enough: a producer's batch for
one topic can reach the broker after a later batch for the other.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from agents.kafka.records import Record


class Held(NamedTuple):
    """A record waiting in the merge: sort key first, then what the meter needs."""

    ts_ms: int
    seq: int  # producer's sequence (``billing-seq`` header) for ties within a millisecond
    rank: int
    offset: int
    topic: str
    record: Record  # handed back on release
    held_since: float


@dataclass(slots=True)
class Merger:
    """The merge of one partition of the topics in ``topics`` (their order is their rank)."""

    topics: tuple[str, ...]
    max_hold_s: float = 3.0
    queues: dict[str, deque[Held]] = field(default_factory=dict)
    frontier: dict[str, tuple[int, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.queues = {topic: deque() for topic in self.topics}

    def add(self, record: Record, now: float) -> None:
        """Queue a record (records of one topic arrive in offset order)."""
        topic, position = record.topic, (record.ts_ms, record.seq)
        rank = self.topics.index(topic)
        self.queues[topic].append(Held(*position, rank, record.offset, topic, record, now))
        self.frontier[topic] = max(self.frontier.get(topic, position), position)

    def release(self, idle: Mapping[str, float], now_s: float) -> list[Record]:
        """Records that can be processed now, in merged order.

        ``idle``: for each topic read to its log end, when the fetch response that
        showed it arrived (seconds, the clock of ``now_s``).
        """
        released: list[Record] = []
        while True:
            heads = [queue[0] for queue in self.queues.values() if queue]
            if not heads:
                return released
            head = min(heads)
            if not self._may_release(head, idle, now_s):
                return released
            released.append(self.queues[head.topic].popleft().record)

    def _may_release(self, head: Held, idle: Mapping[str, float], now_s: float) -> bool:
        settled = head.held_since + self.max_hold_s
        for topic in self.topics:
            if topic == head.topic or self.queues[topic]:
                continue
            if self.frontier.get(topic, (-1, -1)) > (head.ts_ms, head.seq):
                continue
            if now_s >= settled and idle.get(topic, -1.0) >= settled:
                continue
            return False
        return True

    def first_held(self, topic: str) -> int | None:
        """The offset of the first record of ``topic`` still held, if any."""
        queue = self.queues[topic]
        return queue[0].offset if queue else None

    def held(self) -> int:
        """How many records are held."""
        return sum(len(queue) for queue in self.queues.values())
