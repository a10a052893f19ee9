"""The sink's link to Kafka: a read_committed consumer group, acknowledged after writing.

A source of the spine (:mod:`pipeline.spine`): :meth:`SinkLink.fetch` returns a batch
with the offsets it ends at, :meth:`SinkLink.commit` acknowledges them, and
:meth:`SinkLink.run` drives the sink's step (``OneAhead``: decode, write, commit) with
them. Every call of the step holds the link's lock, so a revocation joins the step (the
batch being written finishes and commits) before the partitions go.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from agents.kafka.client import Listener, to_partition_batch
from agents.kafka.records import PartitionBatch, Topics
from pipeline.spine import Batch, Offsets, Serialized, Step, drive

log = logging.getLogger(__name__)
CLOSE_TIMEOUT_S = 5.0
SinkBatch = Batch[list[PartitionBatch]]


class SinkLink:
    """Delivers batches of the output topics; commits their offsets once handled."""

    def __init__(
        self, bootstrap: str, group: str, topics: Topics, inputs: tuple[str, ...], max_records: int
    ) -> None:
        self.topics = topics
        self.max_records = max_records
        self._lock = asyncio.Lock()
        self._step: Step[SinkBatch] | None = None
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

    async def run(self, step: Step[SinkBatch], stop: asyncio.Event, timeout_s: float) -> None:
        """Drive ``step`` with this link's batches until ``stop`` is set, then join it (the
        last batch written is committed; raises if its write gave up)."""
        self._step = step
        await drive(self, Serialized(step, self._lock), stop, timeout_s)

    async def _revoked(self, revoked: set[TopicPartition]) -> None:
        async with self._lock:  # the batch being written finishes and commits first
            if self._step is not None:
                with contextlib.suppress(Exception):  # gave up (stopping): nothing committed
                    await self._step.join()
            for tp in revoked:
                self._delivered.pop(tp, None)

    async def _noop(self, _assigned: set[TopicPartition]) -> None:
        """Positions come from the committed offsets (aiokafka seeks there)."""

    async def fetch(self, timeout_s: float) -> SinkBatch | None:
        """One batch of the assigned partitions and the offsets it ends at, or None."""
        fetched = await self._consumer.getmany(
            timeout_ms=int(timeout_s * 1000), max_records=self.max_records
        )
        parts = [to_partition_batch(self.topics, ms) for ms in fetched.values() if ms]
        if not parts:
            return None
        offsets = {
            (self.topics.base(tp.topic), tp.partition): ms[-1].offset + 1
            for tp, ms in fetched.items()
            if ms
        }
        return Batch(parts, offsets)

    async def commit(self, offsets: Offsets) -> None:
        """Acknowledge a handled batch (a failure is a rebalance: read again, harmless)."""
        full = self.topics.full
        positions = {TopicPartition(full(t), p): o for (t, p), o in offsets.items()}
        self._delivered.update(positions)
        try:
            await self._consumer.commit(positions)
        except (CommitFailedError, KafkaError) as exc:
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
