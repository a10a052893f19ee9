"""The meter: input records to session-boundary events, as a spine of small steps.

Per owned partition and per poll: **admit** (offset continuity, then each record
decoded once: validation here, lateness in the apply step with the core), **merge**
(SPEC 2b's cross-topic order, :mod:`agents.ordering`), **apply** (the pure core on
the partition's :class:`~pipeline.core.state.PartitionState`), **emit** (outputs
and changelog records) and **commit** (one Kafka transaction with the consumed
offsets, :meth:`agents.kafka.meter_link.MeterLink.checkpoint`). Offsets are those
of released records only: a record still held by the merge stays uncommitted, so
after a crash Kafka delivers it again. Metrics are counted after the commit.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from agents import changelog
from agents.kafka.records import Delivery, MeterPort, Opened, Output, Record, StaleError
from agents.metrics import BatchCounts, BillingMetrics
from agents.ordering import Admitted, StreamMerge
from agents.settings import INPUT_TOPICS, WorkerSettings
from pipeline.core.meter import (
    Event,
    apply_event,
    decode_or_error,
    late_error,
    processing_clock,
    sweep,
)
from pipeline.core.ordering import MERGED_TOPICS
from pipeline.core.state import PartitionState
from schemas import (
    agent_activity,
    billing_session,
    conversation_summary,
    dead_letter,
)
from schemas.alert_delivery import AlertDelivery
from schemas.conversation_summary import ConversationSummary
from schemas.dead_letter import DeadLetter
from schemas.fields import ValidationError

log = logging.getLogger(__name__)
CONVERSATION_TOPICS = MERGED_TOPICS
INPUTS = INPUT_TOPICS  # the meter reads every input topic


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
    counts: BatchCounts = field(default_factory=BatchCounts)


class Meter:
    """The meter role: drives the link and the spine's steps for every owned partition."""

    def __init__(
        self,
        settings: WorkerSettings,
        link: MeterPort,
        metrics: BillingMetrics,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings, self.cfg = settings, settings.cfg
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
        self.tasks[opened.partition] = PartitionTask(
            opened.partition,
            opened.epoch,
            restorer.finish(),
            StreamMerge(self.settings.max_hold_s),
            dict(opened.committed),
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Poll, process and checkpoint until ``stop`` is set."""
        while not stop.is_set():
            delivery, opened = await self.link.poll(self.settings.batch_within_s)
            for item in opened:
                if self.link.epoch(item.partition) == item.epoch:
                    self.open(item)
            await self.process(delivery)
            if self.clock() - self.last_sweep >= self.settings.sweep_interval_s:
                await self.sweep()

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
            admitted = Admitted(record, decode(record, processing_clock(now_ms, record.ts_ms)))
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
        """Apply each decoded record with the core; collect outputs and counts."""
        applied = Applied()
        now_ms = int(now * 1000)
        for record, event in records:
            if isinstance(event, ValidationError):
                self._dead_letter(applied, record, event)
                continue
            if record.key != expected_key(event):
                applied.counts.miskeyed[record.topic] += 1
            clock_ms = processing_clock(now_ms, record.ts_ms)
            outcome = apply_event(task.state, event, clock_ms, self.cfg)
            if outcome.late:
                self._dead_letter(applied, record, late_error(self.cfg))
                continue
            applied.counts.outcome(record.topic, outcome)
            emit_all(applied.outputs, outcome.sessions, outcome.agents, outcome.summaries, record)
        return applied

    @staticmethod
    def _dead_letter(applied: Applied, record: Record, error: ValidationError) -> None:
        letter = DeadLetter.from_error(
            error,
            source="kafka",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            raw=record.value or b"",
        )
        applied.counts.invalid(letter)
        applied.outputs.append(
            Output(dead_letter.TOPIC, record.key, dead_letter.encode(letter), record.ts_ms)
        )

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
            summaries = sweep(task.state, self.cfg)
            applied = Applied()
            emit_all(applied.outputs, (), (), tuple(summaries), None)
            applied.counts.closed(summaries)
            await self.commit(task, applied)


def expected_key(event: Event) -> bytes:
    """The key SPEC section 1 gives an event: its conversation id, or an alert's app id."""
    return (event.app_id if isinstance(event, AlertDelivery) else event.conversation_id).encode()


def decode(record: Record, now_ms: int) -> Event | ValidationError:
    """The record's event, or why it is invalid."""
    return decode_or_error(record.topic, record.value, now_ms)


def emit_all(
    out: list[Output],
    sessions: tuple[billing_session.BillingSession, ...],
    agents: tuple[agent_activity.AgentActivity, ...],
    summaries: tuple[ConversationSummary, ...],
    record: Record | None,
) -> None:
    """Outputs keyed by app id, stamped with the input record's timestamp."""
    ts_ms = None if record is None else record.ts_ms
    out.extend(
        Output(billing_session.TOPIC, s.app_id.encode(), billing_session.encode(s), ts_ms)
        for s in sessions
    )
    out.extend(
        Output(agent_activity.TOPIC, a.app_id.encode(), agent_activity.encode(a), ts_ms)
        for a in agents
    )
    out.extend(
        Output(conversation_summary.TOPIC, s.app_id.encode(), conversation_summary.encode(s), ts_ms)
        for s in summaries
    )
