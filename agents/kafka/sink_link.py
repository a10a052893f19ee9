"""The sink's link to Kafka: a read_committed consumer group, acknowledged after writing.

Batches go through ``OneAhead`` (``agents.sink_pipeline``): a batch's offsets are
committed once it is written, while the next batch is already being decoded."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from agents.kafka.client import Listener, to_partition_batch
from agents.kafka.records import Topics
from agents.sink_pipeline import OneAhead, SinkSteps

log = logging.getLogger(__name__)
CLOSE_TIMEOUT_S = 5.0
Offsets = dict[TopicPartition, int]


class SinkLink:
    """Delivers batches of the output topics; commits their offsets once handled."""

    def __init__(  # noqa: PLR0917 - where, who, what, and how much
        self,
        bootstrap: str,
        group: str,
        topics: Topics,
        inputs: tuple[str, ...],
        max_records: int,
        steps: SinkSteps[Any],
    ) -> None:
        self.topics = topics
        self._pipeline: OneAhead[Any, Offsets] = OneAhead(steps, self._commit)
        self.max_records = max_records
        self._lock = asyncio.Lock()
        self._subscription = [topics.full(t) for t in inputs]
        self._delivered: dict[TopicPartition, int] = {}
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",  # only outputs of committed meter checkpoints
            max_partition_fetch_bytes=4 * 1024 * 1024,
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
        )

    async def start(self) -> None:
        """Connect and join the group."""
        await self._consumer.start()
        self._consumer.subscribe(self._subscription, listener=Listener(self._revoked, self._noop))

    async def _revoked(self, revoked: set[TopicPartition]) -> None:
        async with self._lock:  # the batch being written finishes and commits first
            with contextlib.suppress(Exception):  # gave up (stopping): nothing committed
                await self._pipeline.settle()
            for tp in revoked:
                self._delivered.pop(tp, None)

    async def _noop(self, _assigned: set[TopicPartition]) -> None:
        """Positions come from the committed offsets (aiokafka seeks there)."""

    async def run_once(self, timeout_s: float) -> int:
        """Fetch one batch and submit it (the one before it is committed once written);
        an empty fetch settles the batch in flight. Returns the batch's size."""
        fetched = await self._consumer.getmany(
            timeout_ms=int(timeout_s * 1000), max_records=self.max_records
        )
        batch = [to_partition_batch(self.topics, ms) for ms in fetched.values() if ms]
        async with self._lock:
            if not batch:
                await self._pipeline.settle()
                return 0
            offsets = {tp: ms[-1].offset + 1 for tp, ms in fetched.items() if ms}
            await self._pipeline.submit(batch, offsets)  # raises if a write gave up
        return sum(len(part.values) for part in batch)

    async def settle(self) -> None:
        """Finish the batch in flight and commit it (the worker stops)."""
        async with self._lock:
            await self._pipeline.settle()

    async def _commit(self, offsets: Offsets) -> None:
        self._delivered.update(offsets)
        try:
            await self._consumer.commit(offsets)
        except (CommitFailedError, KafkaError) as exc:  # a rebalance: read again, harmless
            log.warning(
                "sink commit failed; records will be re-delivered",
                extra={"context": {"error": type(exc).__name__}},
            )

    def assigned(self) -> int:
        """How many output topic partitions this member is assigned."""
        return len(self._consumer.assignment())

    async def lag(self) -> dict[tuple[str, int], int]:
        """Offsets behind the last stable offset, per assigned output topic partition.

        From the fetch position, which also steps over transaction markers.
        """
        result: dict[tuple[str, int], int] = {}
        for tp in self._consumer.assignment():
            if tp not in self._delivered:
                continue  # nothing fetched yet: the position may not be known
            with contextlib.suppress(AssertionError, KeyError, KafkaError):
                stable = self._consumer.last_stable_offset(tp)
                position = await self._consumer.position(tp)
                if stable is not None:
                    result[(self.topics.base(tp.topic), tp.partition)] = max(0, stable - position)
        return result

    async def close(self) -> None:
        """Leave the group, within a deadline."""
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._consumer.stop(), CLOSE_TIMEOUT_S)
