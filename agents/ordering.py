"""Merging the conversation topics back into one order per partition (pure, no I/O).

``conversation-turns`` and ``agent-transfers`` are co-partitioned (same key, same
partition count), but a consumer receives their records in no defined order
across the two topics. A conversation's clocks depend on the order of its turns
and transfers, so the meter merges partition p of both topics by Kafka timestamp
(ties: the producer's ``billing-seq`` header if any, topic rank, then offset),
as Kafka Streams does. A record is released once every other topic of the
partition has delivered a record at least as late (its *frontier*), or when the
topics behind it are idle: read to their log end as of a fetch response that came
at least ``max_hold_s`` after the record was held. "Caught up" on its own is not
enough: a producer's batch for one topic can reach the broker after a later batch
for the other, and a highwater from an older fetch can be stale, so a topic can
look caught up while earlier records are still in flight.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple


class Held(NamedTuple):
    """A record waiting in the merge: sort key first, then what the meter needs."""

    ts_ms: int
    seq: int  # producer's sequence (``billing-seq`` header) for ties within a millisecond; 0
    rank: int
    offset: int
    partition: int
    topic: str
    key: bytes | None
    value: bytes
    held_since: float


@dataclass(slots=True)
class Merger:
    """Per-partition merge buffers for the topics in ``topics`` (their order is their rank)."""

    topics: tuple[str, ...]
    max_hold_s: float = 1.0
    _heaps: dict[int, list[Held]] = field(default_factory=dict)
    _frontier: dict[tuple[str, int], int] = field(default_factory=dict)

    def rank(self, topic: str) -> int:
        """The tie-break rank of a topic."""
        return self.topics.index(topic)

    def add(self, record: Held) -> None:
        """Buffer a record and move its topic's frontier."""
        heapq.heappush(self._heaps.setdefault(record.partition, []), record)
        key = (record.topic, record.partition)
        self._frontier[key] = max(self._frontier.get(key, record.ts_ms), record.ts_ms)

    def lagging(self, partition: int, head: Held) -> list[str]:
        """Other topics of ``partition`` that may still deliver a record ordered before ``head``.

        Strict: a frontier equal to the head's timestamp is not enough, since records of the
        same millisecond are ordered by ``billing-seq`` and one of them may still be on its way.
        """
        return [
            t
            for t in self.topics
            if t != head.topic and self._frontier.get((t, partition), -1) <= head.ts_ms
        ]

    def release(self, partition: int, idle: Mapping[str, float], now_s: float) -> list[Held]:
        """Records of ``partition`` that can be processed now, in merged order.

        ``idle``: for each topic read up to its log end, when the fetch response that showed
        it arrived (seconds, the same clock as ``held_since``).
        """
        heap = self._heaps.get(partition, [])
        released: list[Held] = []
        while heap:
            head = heap[0]
            settled = head.held_since + self.max_hold_s
            behind = self.lagging(partition, head)
            if behind and not (
                now_s >= settled and all(idle.get(t, -1.0) >= settled for t in behind)
            ):
                break
            released.append(heapq.heappop(heap))
        return released

    def pending(self, partition: int) -> list[Held]:
        """Records still held for ``partition``, in merged order."""
        return sorted(self._heaps.get(partition, []))

    def partitions(self) -> list[int]:
        """Partitions with held records."""
        return [p for p, heap in self._heaps.items() if heap]

    def drop(self, partition: int) -> None:
        """Forget a partition (revoked: its held records live on in the pending table)."""
        self._heaps.pop(partition, None)
        for key in [k for k in self._frontier if k[1] == partition]:
            del self._frontier[key]
