"""The meter: input records to session-boundary events, as a step of the spine.

:class:`Meter` is the step :meth:`agents.kafka.meter_link.MeterLink.run` drives
(:func:`pipeline.spine.drive`). Per owned partition and per fetched batch: **admit**
(offset continuity), **decode** each record once, **merge** (SPEC 2b's cross-topic
order), **apply** and dead-letter (the steps replay uses too: :mod:`pipeline.partition`),
**emit** (encoded outputs and changelog records) and **commit** (one Kafka transaction
with the consumed offsets, :meth:`~agents.kafka.meter_link.MeterLink.checkpoint`).
Offsets are those of released records only: a record still held by the merge stays
uncommitted, so after a crash Kafka delivers it again. Metrics are counted after the
commit.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from agents import changelog
from agents.kafka.records import Delivery, MeterPort, Opened, Output, Record, StaleError
from agents.metrics import BillingMetrics
from agents.settings import INPUT_TOPICS, WorkerSettings
from pipeline.bulk import cyclic_gc_paused
from pipeline.core.counts import Counts
from pipeline.core.ordering import MERGED_TOPICS
from pipeline.core.state import PartitionState
from pipeline.partition import Admitted, Applier, Emitted, StreamMerge, decode
from schemas import agent_activity, billing_session, conversation_summary, dead_letter

log = logging.getLogger(__name__)
CONVERSATION_TOPICS = MERGED_TOPICS
INPUTS = INPUT_TOPICS  # the meter reads every input topic
ENCODERS: dict[type, tuple[str, Callable[..., bytes]]] = {
    billing_session.BillingSession: (billing_session.TOPIC, billing_session.encode),
    agent_activity.AgentActivity: (agent_activity.TOPIC, agent_activity.encode),
    conversation_summary.ConversationSummary: (
        conversation_summary.TOPIC,
        conversation_summary.encode,
    ),
    dead_letter.DeadLetter: (dead_letter.TOPIC, dead_letter.encode),
}


@dataclass(slots=True)
class PartitionTask:
    """One owned partition: its state, its merge, and the offsets it has taken in."""

    partition: int
    epoch: int
    state: PartitionState
    merger: StreamMerge
    next_offsets: dict[str, int]
    paused: set[str] = field(default_factory=set)  # topics paused while their queue is full

    def admit(self, records: list[Record]) -> list[Record]:
        """Records not taken in before (a re-delivery is below the next offset)."""
        admitted = []
        for record in records:
            if record.offset >= self.next_offsets.get(record.topic, 0):
                admitted.append(record)
                self.next_offsets[record.topic] = record.offset + 1
        return admitted

    def offsets(self) -> dict[str, int]:
        """What to commit: up to the first record still held, per topic."""
        committed = dict(self.next_offsets)
        for topic in CONVERSATION_TOPICS:
            first = self.merger.first_held(topic)
            if first is not None:
                committed[topic] = first
        return committed


@dataclass(slots=True)
class Applied:
    """What applying a batch of released records produced."""

    outputs: list[Output] = field(default_factory=list)
    counts: Counts = field(default_factory=Counts)


class Meter:
    """The meter step: admit, decode, merge, apply, emit and commit per owned partition."""

    def __init__(
        self,
        settings: WorkerSettings,
        link: MeterPort,
        metrics: BillingMetrics,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.applier = Applier(settings.cfg, "kafka")
        self.link, self.metrics, self.clock = link, metrics, clock
        self.tasks: dict[int, PartitionTask] = {}
        self.last_sweep = clock()

    def revoked(self, partitions: set[int]) -> None:
        """The link's revocation callback: drop the tasks (their state is in Kafka)."""
        for partition in partitions:
            self.tasks.pop(partition, None)
        self.metrics.forget_partitions(partitions, INPUTS)

    def open(self, opened: Opened) -> None:
        """Build the task of a newly opened partition from its changelog."""
        restorer = opened.changelog
        if not isinstance(restorer, changelog.Restorer):  # the link is given changelog.Restorer
            raise TypeError(f"not a changelog restorer: {restorer!r}")
        with cyclic_gc_paused():
            restored = restorer.finish()
        self.tasks[opened.partition] = PartitionTask(
            opened.partition,
            opened.epoch,
            restored,
            StreamMerge(self.settings.max_hold_s),
            dict(opened.committed),
        )

    async def submit(self, delivery: Delivery) -> None:
        """The spine's ``submit``: open the partitions the fetch opened, then process."""
        for item in delivery.opened:
            if self.link.epoch(item.partition) == item.epoch:
                self.open(item)
        await self.process(delivery)

    async def poll(self) -> None:
        """The spine's ``poll``: sweep when it is due."""
        if self.clock() - self.last_sweep >= self.settings.sweep_interval_s:
            await self.sweep()

    async def join(self) -> None:
        """The spine's ``join``: nothing is in hand (each batch commits in ``submit``)."""

    async def process(self, delivery: Delivery) -> None:
        """Admit, merge, apply, emit and commit each partition of one delivery."""
        now = self.clock()
        ready = []
        for partition, task in list(self.tasks.items()):
            if delivery.epochs.get(partition, task.epoch) != task.epoch:
                continue  # fetched in an epoch that ended: Kafka delivers them again
            released = self.merge(task, task.admit(delivery.records.get(partition, [])), now)
            if released:
                ready.append(self.commit(task, self.apply(task, released, now)))
        await asyncio.gather(*ready)  # one transaction per partition, concurrently

    def merge(self, task: PartitionTask, records: list[Record], now: float) -> list[Admitted]:
        """Decode each record once; queue conversation records in the merge (SPEC 2b),
        alerts need none. Pause a topic whose queue is full, resume it once drained."""
        released: list[Admitted] = []
        now_ms = int(now * 1000)
        for record in records:
            admitted = decode(record, now_ms)
            if record.topic in CONVERSATION_TOPICS:
                task.merger.add(admitted, now)
            else:
                released.append(admitted)
        idle = {}
        for topic in CONVERSATION_TOPICS:
            fetched = self.link.caught_up_at(topic, task.partition)
            if fetched is not None:
                idle[topic] = fetched
        released += task.merger.release(idle, now)
        self._flow(task)
        return released

    def _flow(self, task: PartitionTask) -> None:
        limit = self.settings.held_limit
        for topic in CONVERSATION_TOPICS:
            held = task.merger.held(topic)
            self.metrics.merge_held.labels(topic, str(task.partition)).set(held)
            if topic not in task.paused and held > limit:
                task.paused.add(topic)
                self.link.pause(topic, task.partition)
            elif topic in task.paused and held <= limit // 2:
                task.paused.discard(topic)
                self.link.resume(topic, task.partition)

    def apply(self, task: PartitionTask, records: list[Admitted], now: float) -> Applied:
        """Apply each decoded record with the core; encode what it produced."""
        applied = Applied()
        emitted = self.applier.apply(task.state, records, int(now * 1000), applied.counts)
        applied.outputs = encode_all(emitted)
        return applied

    async def commit(self, task: PartitionTask, applied: Applied) -> None:
        """The changelog with the outputs and offsets, in one transaction; then metrics."""
        outputs = applied.outputs + changelog.changes(task.state, task.partition)
        started = time.monotonic()
        try:
            await self.link.checkpoint(task.partition, task.epoch, outputs, task.offsets())
        except StaleError:
            self.metrics.checkpoints.labels("stale").inc()
            return  # revoked meanwhile: the new owner starts from the last checkpoint
        except Exception:
            self.metrics.checkpoints.labels("failed").inc()
            log.exception(
                "checkpoint failed; reopening the partition from Kafka",
                extra={"context": {"partition": task.partition}},
            )
            self.tasks.pop(task.partition, None)
            await self.link.reset(task.partition)
            return
        self.metrics.checkpoints.labels("committed").inc()
        self.metrics.checkpoint_seconds.observe(time.monotonic() - started)
        self.metrics.record(applied.counts)
        self.metrics.conversations_active.set(
            sum(len(t.state.conversations) for t in self.tasks.values())
        )

    async def sweep(self) -> None:
        """Free forgotten state and report idle segments in every owned partition."""
        self.last_sweep = self.clock()
        for task in list(self.tasks.values()):
            applied = Applied()
            applied.outputs = encode_all(self.applier.sweep(task.state, applied.counts))
            await self.commit(task, applied)


def encode_all(emitted: list[Emitted]) -> list[Output]:
    """Each produced item encoded for its topic, under its key and timestamp."""
    outputs = []
    for item, key, ts_ms in emitted:
        topic, encode = ENCODERS[type(item)]
        outputs.append(Output(topic, key, encode(item), ts_ms))
    return outputs
