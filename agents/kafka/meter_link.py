"""The meter's link to Kafka: group membership, restore, transactional checkpoints, and
the driver loop (:func:`pipeline.spine.drive`) that feeds its fetches to the meter step."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor

from agents.kafka.client import Listener, to_record
from agents.kafka.records import (
    Delivery,
    Opened,
    Output,
    Ownership,
    Record,
    Restoring,
    StaleError,
    Topics,
)
from pipeline.bulk import cyclic_gc_paused
from pipeline.spine import Step, drive

log = logging.getLogger(__name__)
CLOSE_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class MeterLinkConfig:
    """Where the meter reads and writes."""

    bootstrap: str
    group: str
    topics: Topics
    inputs: tuple[str, ...]  # base names, co-partitioned
    changelog: str  # base name of the compacted state topic
    max_poll_records: int = 20_000


async def read_changelogs(
    consumer: AIOKafkaConsumer,
    topic: str,
    partitions: list[int],
    restorer: Callable[[], Restoring],
) -> dict[int, Restoring]:
    """The partitions' changelogs, up to their last stable offsets, each fed to a new
    restorer as it is read (no copy of the records is kept)."""
    tps = [TopicPartition(topic, p) for p in partitions]
    consumer.assign(tps)
    await consumer.seek_to_beginning(*tps)
    ends = await consumer.end_offsets(tps)
    restorers = {p: restorer() for p in partitions}
    with cyclic_gc_paused():
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            batch = await consumer.getmany(*tps, timeout_ms=1000, max_records=50_000)
            for tp, messages in batch.items():
                add = restorers[tp.partition].add
                for message in messages:
                    add(message.key, message.value)
    return restorers


class MeterLink:
    """The meter's consumer, its per-partition transactional producers and the restorer."""

    def __init__(
        self,
        config: MeterLinkConfig,
        on_revoked: Callable[[set[int]], None],
        restorer: Callable[[], Restoring],
    ) -> None:
        self.config = config
        self._on_revoked = on_revoked
        self._restorer_of = restorer
        self._own = Ownership()
        self._producers: dict[int, AIOKafkaProducer] = {}
        self._delivered: dict[tuple[str, int], int] = {}  # (base topic, p) -> next offset
        full = config.topics.full
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=config.bootstrap,
            group_id=config.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            partition_assignment_strategy=(RangePartitionAssignor,),
            max_partition_fetch_bytes=4 * 1024 * 1024,
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
        )
        self._restorer = AIOKafkaConsumer(
            bootstrap_servers=config.bootstrap,
            enable_auto_commit=False,
            isolation_level="read_committed",
            max_partition_fetch_bytes=4 * 1024 * 1024,
        )
        self._subscription = [full(t) for t in config.inputs]

    def epoch(self, partition: int) -> int | None:
        """The epoch ``partition`` is opened in, or None."""
        return self._own.opened.get(partition)

    async def start(self) -> None:
        """Connect and join the group."""
        await self._restorer.start()
        await self._consumer.start()
        self._consumer.subscribe(
            self._subscription, listener=Listener(self._revoked, self._assigned)
        )

    async def _revoked(self, revoked: set[TopicPartition]) -> None:
        async with self._own.lock:
            await self._own.drained()  # checkpoints in flight finish (or fail) first
            numbers = {tp.partition for tp in revoked}
            for partition in numbers:
                await self._drop(partition)
            self._on_revoked(numbers)

    async def _assigned(self, assigned: set[TopicPartition]) -> None:
        async with self._own.lock:
            self._consumer.pause(*assigned)  # until opened by the next poll
            self._own.waiting |= {tp.partition for tp in assigned}

    async def _drop(self, partition: int) -> None:
        self._own.opened.pop(partition, None)
        self._own.waiting.discard(partition)
        for topic in self.config.inputs:
            self._delivered.pop((topic, partition), None)
        producer = self._producers.pop(partition, None)
        if producer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), CLOSE_TIMEOUT_S)

    async def reset(self, partition: int) -> None:
        """A checkpoint failed: forget the partition and open it again from Kafka."""
        async with self._own.lock:
            await self._own.drained()
            await self._drop(partition)
            tps = self._input_tps(partition)
            if set(tps) <= self._consumer.assignment():
                self._consumer.pause(*tps)
                self._own.waiting.add(partition)

    def _input_tps(self, partition: int) -> list[TopicPartition]:
        return [TopicPartition(t, partition) for t in self._subscription]

    async def run(self, step: Step[Delivery], stop: asyncio.Event, timeout_s: float) -> None:
        """Drive ``step`` (the meter) with this link's fetches until ``stop`` is set."""
        await drive(self, step, stop, timeout_s)

    async def fetch(self, timeout_s: float) -> Delivery:
        """Open newly owned partitions, then fetch; records of opened partitions only
        (an empty delivery too: the meter's merge releases on time as well as on data)."""
        opened = await self._open_waiting()
        fetched = await self._consumer.getmany(
            timeout_ms=int(timeout_s * 1000), max_records=self.config.max_poll_records
        )
        records: dict[int, list[Record]] = {}
        epochs = dict(self._own.opened)  # as of the fetch: a rebalance during it ends them
        for tp, messages in fetched.items():
            if tp.partition in epochs and messages:
                records.setdefault(tp.partition, []).extend(
                    to_record(self.config.topics, m) for m in messages
                )
        for partition in epochs:  # positions step over transaction markers too
            for tp in self._input_tps(partition):
                if partition in self._own.opened:
                    base = self.config.topics.base(tp.topic)
                    self._delivered[(base, partition)] = await self._consumer.position(tp)
        return Delivery(records, epochs, opened)

    async def _open_waiting(self) -> list[Opened]:
        if not self._own.waiting:
            return []
        async with self._own.lock:
            partitions = sorted(self._own.waiting)
            # fencing first, for every partition at once (each is a broker round trip), so
            # that the changelogs and offsets read next are final
            starts = await asyncio.gather(*map(self._start_producer, partitions))
            self._producers.update(zip(partitions, starts, strict=True))
            changelogs = await self._read_changelogs(partitions)
            opened = []
            for partition in partitions:
                self._own.last_epoch += 1
                committed = await self._seek_to_committed(partition)
                opened.append(
                    Opened(partition, self._own.last_epoch, changelogs[partition], committed)
                )
                self._own.waiting.discard(partition)
                self._own.opened[partition] = self._own.last_epoch
            return opened

    async def _start_producer(self, partition: int) -> AIOKafkaProducer:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.config.bootstrap,
            transactional_id=f"{self.config.group}-{partition}",
            enable_idempotence=True,
            acks="all",
            linger_ms=2,
            max_batch_size=1024 * 1024,
            max_request_size=8 * 1024 * 1024,
        )
        await producer.start()  # fences the previous owner and ends its transaction
        return producer

    async def _seek_to_committed(self, partition: int) -> dict[str, int]:
        tps = self._input_tps(partition)
        beginning = await self._consumer.beginning_offsets(tps)
        committed: dict[str, int] = {}
        for tp in tps:
            offset = await self._consumer.committed(tp)
            position = beginning[tp] if offset is None else offset
            self._consumer.seek(tp, position)
            base = self.config.topics.base(tp.topic)
            committed[base] = position
            self._delivered[(base, partition)] = position
        self._consumer.resume(*tps)
        return committed

    async def _read_changelogs(self, partitions: list[int]) -> dict[int, Restoring]:
        topic = self.config.topics.full(self.config.changelog)
        return await read_changelogs(self._restorer, topic, partitions, self._restorer_of)

    def caught_up_at(self, topic: str, partition: int) -> float | None:
        """When a fetch response showed ``topic``/``partition`` delivered to its end (s)."""
        tp = TopicPartition(self.config.topics.full(topic), partition)
        try:
            stable = self._consumer.last_stable_offset(tp)
            fetched_ms = self._consumer.last_poll_timestamp(tp)
        except (AssertionError, KeyError):
            return None
        delivered = self._delivered.get((topic, partition))
        if stable is None or fetched_ms is None or delivered is None or delivered < stable:
            return None
        return float(fetched_ms) / 1000

    async def checkpoint(
        self,
        partition: int,
        epoch: int,
        outputs: list[Output],
        offsets: dict[str, int],
    ) -> None:
        """Outputs (with the changelog records) and consumed offsets in one transaction.

        Checkpoints of different partitions run concurrently (each has its own producer);
        a rebalance waits for those in flight and lets no new one start.
        """
        async with self._own.checkpointing():
            if self._own.opened.get(partition) != epoch:
                raise StaleError(partition)
            producer = self._producers[partition]
            full = self.config.topics.full
            await producer.begin_transaction()
            try:
                for out in outputs:
                    await producer.send(
                        full(out.topic),
                        out.value,
                        key=out.key,
                        partition=out.partition,
                        timestamp_ms=out.ts_ms,
                    )
                if offsets:
                    await producer.send_offsets_to_transaction(
                        {TopicPartition(full(t), partition): o for t, o in offsets.items()},
                        self.config.group,
                    )
                await producer.commit_transaction()
            except BaseException:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(producer.abort_transaction(), CLOSE_TIMEOUT_S)
                raise

    def pause(self, topic: str, partition: int) -> None:
        """Fetch no more of ``topic``/``partition`` until resumed (or reopened)."""
        tp = TopicPartition(self.config.topics.full(topic), partition)
        if tp in self._consumer.assignment():
            self._consumer.pause(tp)

    def resume(self, topic: str, partition: int) -> None:
        """Fetch ``topic``/``partition`` again."""
        tp = TopicPartition(self.config.topics.full(topic), partition)
        if partition in self._own.opened and tp in self._consumer.assignment():
            self._consumer.resume(tp)

    def lag(self) -> dict[tuple[str, int], int]:
        """Records behind the last stable offset, per opened input topic partition."""
        result: dict[tuple[str, int], int] = {}
        for (topic, partition), delivered in self._delivered.items():
            tp = TopicPartition(self.config.topics.full(topic), partition)
            with contextlib.suppress(AssertionError, KeyError):
                stable = self._consumer.last_stable_offset(tp)
                if stable is not None:
                    result[(topic, partition)] = max(0, stable - delivered)
        return result

    def owned(self) -> set[int]:
        """Partition numbers opened."""
        return set(self._own.opened)

    async def close(self) -> None:
        """Leave the group and close every client, each within a deadline."""
        started = time.monotonic()
        producers = [p.stop() for p in self._producers.values()]
        self._producers.clear()
        clients = [*producers, self._consumer.stop(), self._restorer.stop()]
        with contextlib.suppress(Exception):  # each in parallel, all within one deadline
            await asyncio.wait_for(
                asyncio.gather(*clients, return_exceptions=True), CLOSE_TIMEOUT_S * 2
            )
        log.info(
            "meter link closed", extra={"context": {"s": round(time.monotonic() - started, 2)}}
        )
