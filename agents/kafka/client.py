"""Helpers shared by the two links: aiokafka's rebalance callbacks and records."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import ConsumerRebalanceListener, TopicPartition

from agents.kafka.records import PartitionBatch, Record, Topics, seq_of


class Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    """Forwards aiokafka's rebalance callbacks to two coroutines."""

    def __init__(
        self,
        revoked: Callable[[set[TopicPartition]], Awaitable[None]],
        assigned: Callable[[set[TopicPartition]], Awaitable[None]],
    ) -> None:
        self._revoked, self._assigned = revoked, assigned

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._assigned(set(assigned))


def to_partition_batch(topics: Topics, messages: list[Any]) -> PartitionBatch:
    """A :class:`PartitionBatch` from one partition's aiokafka ``ConsumerRecord`` list."""
    first = messages[0]
    return PartitionBatch(
        topics.base(first.topic),
        first.partition,
        [m.offset for m in messages],
        [m.timestamp for m in messages],
        [m.value for m in messages],
    )


def to_record(topics: Topics, message: object) -> Record:
    """A :class:`Record` from an aiokafka ``ConsumerRecord``."""
    m = message
    return Record(
        topics.base(m.topic),  # type: ignore[attr-defined]
        m.partition,  # type: ignore[attr-defined]
        m.offset,  # type: ignore[attr-defined]
        m.timestamp,  # type: ignore[attr-defined]
        m.key,  # type: ignore[attr-defined]
        m.value,  # type: ignore[attr-defined]
        seq_of(m.headers),  # type: ignore[attr-defined]
    )
