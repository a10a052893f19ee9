"""The meter: Kafka records in, session-boundary events out, around the pure core.

Per batch: merge the conversation topics back into one order per partition
(:mod:`agents.ordering`), apply the released records to an in-memory overlay
of the tables with the core, **send every output and wait for the broker's
acks, then** write the changed state (one record per conversation, atomic). A
crash between the two re-processes the batch from the old state and re-emits
the same deterministic sessions, which the sink de-duplicates; state is never
ahead of the outputs. Records still held by the merge are written to the
``pending`` table, because Faust acknowledges a whole batch at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from agents.codec import (
    ConversationRecord,
    decode_alert,
    decode_held,
    decode_record,
    encode_alert,
    encode_held,
    encode_record,
    held_key,
)
from agents.ordering import Held, Merger
from agents.settings import WorkerSettings
from agents.stores import SeenOverlay, TableStore, load_conversation
from pipeline.core.conversation import ConversationState
from pipeline.core.meter import (
    KEY_SEPARATOR,
    Outcome,
    Stores,
    alert_key,
    apply_event,
    decode_event,
    sweep_alerts,
    sweep_conversations,
)
from schemas import (
    agent_activity,
    agent_transfer,
    alert_delivery,
    billing_session,
    conversation_summary,
    conversation_turn,
    dead_letter,
)
from schemas.conversation_summary import ConversationSummary
from schemas.dead_letter import DeadLetter
from schemas.fields import ValidationError

CONVERSATION_TOPICS = (conversation_turn.TOPIC, agent_transfer.TOPIC)
#: (topic, key, value, timestamp ms or None): returns the delivery future
Send = Callable[[str, bytes | None, bytes, int | None], Awaitable[Awaitable[Any]]]
#: (topic, partition): when a fetch response showed it read to its log end (s), else None
CaughtUp = Callable[[str, int], Awaitable[float | None]]
Assigned = Callable[[], set[int] | None]  # partitions owned, None while rebalancing/recovering


class Incoming(NamedTuple):
    """A consumed record; ``topic`` is the base name (without the prefix)."""

    topic: str
    partition: int
    offset: int
    ts_ms: int
    key: bytes | None
    value: bytes
    seq: int = 0  # the producer's ``billing-seq`` header, 0 without it


@dataclass(slots=True)
class Batch:
    """The overlay of one batch and what it produced."""

    stores: Stores = field(default_factory=Stores)
    seen: SeenOverlay = field(default_factory=SeenOverlay)
    partition_of: dict[str, int] = field(default_factory=dict)
    alerts_touched: dict[str, int] = field(default_factory=dict)
    outputs: list[tuple[str, bytes | None, bytes, int | None]] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    invalid: list[DeadLetter] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.stores.seen = self.seen
        self.stores.conversations = {}
        self.stores.alerts = {}


def _ignore_outcome(_topic: str, _outcome: Outcome) -> None:
    """Default hook (metrics replace it)."""


def _ignore_invalid(_letter: DeadLetter) -> None:
    """Default hook (metrics replace it)."""


def _ignore_sweep(_summaries: list[ConversationSummary], _active: int) -> None:
    """Default hook (metrics replace it): summaries reported, conversations still active."""


class Meter:
    """The meter role of a worker (framework-neutral: Faust wires it in ``agents.app``)."""

    def __init__(
        self,
        settings: WorkerSettings,
        *,
        conversations: TableStore,
        alerts: TableStore,
        pending: TableStore,
        send: Send,
        caught_up: CaughtUp,
        assigned: Assigned,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.cfg = settings.cfg
        self.conversations, self.alerts, self.pending = conversations, alerts, pending
        self.send, self.caught_up, self.clock = send, caught_up, clock
        self.assigned = assigned
        self.merger = Merger(CONVERSATION_TOPICS, settings.max_hold_s)
        self.lock = asyncio.Lock()
        self.restored: set[int] = set()
        self.persisted: set[str] = set()  # pending-table keys written and not yet deleted
        self.stream_ms = 0
        self.stream_wall = clock()
        self.on_outcome: Callable[[str, Outcome], None] = _ignore_outcome
        self.on_invalid: Callable[[DeadLetter], None] = _ignore_invalid
        self.on_sweep: Callable[[list[ConversationSummary], int], None] = _ignore_sweep

    async def on_records(self, records: list[Incoming]) -> None:
        """Process one consumed batch."""
        async with self.lock:
            now = self.clock()
            direct = [r for r in records if r.topic not in CONVERSATION_TOPICS]
            added: list[Held] = []
            for r in records:
                if r.topic in CONVERSATION_TOPICS:
                    self._restore(r.partition, now)
                    held = Held(
                        r.ts_ms,
                        r.seq,
                        self.merger.rank(r.topic),
                        r.offset,
                        r.partition,
                        r.topic,
                        r.key,
                        r.value,
                        now,
                    )
                    self.merger.add(held)
                    added.append(held)
            await self._release_and_process(direct, added, now)

    async def tick_release(self) -> None:
        """Timer: restore held records of newly owned partitions, release those held long."""
        async with self.lock:
            now = self.clock()
            for partition in sorted(self.assigned() or ()):
                self._restore(partition, now)  # even if no new record ever comes for it
            await self._release_and_process([], [], now)

    async def tick(self) -> None:
        """Timer: report idle conversations and evict old state."""
        async with self.lock:
            await self._sweep()

    def revoke(self, partitions: set[int]) -> None:
        """Partitions moved away: forget their merge buffers (the pending table keeps them)."""
        for partition in partitions:
            self.merger.drop(partition)
            self.restored.discard(partition)
            prefix = f"{partition}{KEY_SEPARATOR}"
            self.persisted = {key for key in self.persisted if not key.startswith(prefix)}

    def _restore(self, partition: int, now: float) -> None:
        if partition in self.restored:
            return
        self.restored.add(partition)
        prefix = f"{partition}{KEY_SEPARATOR}"
        for key, raw in self.pending.items():
            if key.startswith(prefix):
                self.merger.add(decode_held(raw.encode(), now))
                self.persisted.add(key)

    async def _release_and_process(
        self, direct: list[Incoming], added: list[Held], now: float
    ) -> None:
        released: list[Held] = []
        for partition in sorted(self.merger.partitions()):
            idle = {}
            for topic in CONVERSATION_TOPICS:
                fetched = await self.caught_up(topic, partition)
                if fetched is not None:
                    idle[topic] = fetched
            released += self.merger.release(partition, idle, now)
        if direct or released:
            await self._process(
                direct
                + [
                    Incoming(h.topic, h.partition, h.offset, h.ts_ms, h.key, h.value, h.seq)
                    for h in released
                ]
            )
        self._persist_held(added, released)

    def _persist_held(self, added: list[Held], released: list[Held]) -> None:
        """Keep the ``pending`` table equal to the records still held (changes only)."""
        gone = {held_key(h) for h in released}
        for held in released:
            key = held_key(held)
            if key in self.persisted:
                self.pending.delete(held.partition, key)
                self.persisted.discard(key)
        for held in added:
            key = held_key(held)
            if key not in gone and key not in self.persisted:
                self.pending.put(held.partition, key, encode_held(held).decode())
                self.persisted.add(key)

    async def _process(self, records: list[Incoming]) -> None:
        batch = Batch()
        now_ms = int(self.clock() * 1000)
        for record in records:
            self._apply(batch, record, now_ms)
        futures = [await self.send(*output) for output in batch.outputs]
        await asyncio.gather(*futures)  # acknowledged by the broker before state is written
        self._write_state(batch)

    def _apply(self, batch: Batch, record: Incoming, now_ms: int) -> None:
        try:
            event = decode_event(record.topic, record.value, now_ms)
        except ValidationError as error:
            letter = DeadLetter.from_error(
                error,
                source="kafka",
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                raw=record.value,
            )
            batch.outputs.append(
                (dead_letter.TOPIC, record.key, dead_letter.encode(letter), record.ts_ms)
            )
            self.on_invalid(letter)
            return
        if isinstance(event, alert_delivery.AlertDelivery):
            key = alert_key(event.app_id, event.event_id)
            if key not in batch.stores.alerts:
                raw = self.alerts.get(key)
                if raw is not None:
                    batch.stores.alerts[key] = decode_alert(raw.encode())[1]
            batch.alerts_touched[key] = record.partition
        else:
            key = f"{event.app_id}{KEY_SEPARATOR}{event.conversation_id}"
            conversations: dict[str, ConversationState] = batch.stores.conversations  # type: ignore[assignment]
            load_conversation(self.conversations, key, conversations, batch.seen)
            batch.partition_of[key] = record.partition
        outcome = apply_event(event, batch.stores, self.cfg)
        self.on_outcome(record.topic, outcome)
        if not outcome.duplicate:
            self.stream_ms = max(self.stream_ms, event.occurred_at_ms)
            self.stream_wall = self.clock()
        self._collect(batch, outcome, record.ts_ms)

    @staticmethod
    def _collect(batch: Batch, outcome: Outcome, ts_ms: int) -> None:
        """Outputs keyed by app id, stamped with the input record's timestamp."""
        out = batch.outputs
        for session in outcome.sessions:
            out.append(
                (
                    billing_session.TOPIC,
                    session.app_id.encode(),
                    billing_session.encode(session),
                    ts_ms,
                )
            )
        for agent in outcome.agents:
            out.append(
                (agent_activity.TOPIC, agent.app_id.encode(), agent_activity.encode(agent), ts_ms)
            )
        for summary in outcome.summaries:
            out.append(
                (
                    conversation_summary.TOPIC,
                    summary.app_id.encode(),
                    conversation_summary.encode(summary),
                    ts_ms,
                )
            )

    def _write_state(self, batch: Batch) -> None:
        horizon = self.cfg.state_retention_ms + self.cfg.eviction_grace_ms
        for key, partition in batch.partition_of.items():
            state = batch.stores.conversations.get(key)
            if state is None:
                continue
            seen = {
                e: t
                for e, t in batch.seen.by_conversation.get(key, {}).items()
                if state.last_ms - t <= horizon
            }
            self.conversations.put(
                partition, key, encode_record(ConversationRecord(partition, state, seen)).decode()
            )
        for key, partition in batch.alerts_touched.items():
            seen_at = batch.stores.alerts.get(key)
            if seen_at is not None:
                self.alerts.put(partition, key, encode_alert(partition, seen_at).decode())

    def stream_now_ms(self) -> int:
        """Stream time: the latest ``occurred_at`` processed, advanced by wall time since."""
        return self.stream_ms + int((self.clock() - self.stream_wall) * 1000)

    async def _sweep(self) -> None:
        records = {key: decode_record(raw.encode()) for key, raw in self.conversations.items()}
        if not self.stream_ms and records:
            self.stream_ms = max(r.state.last_ms for r in records.values())
            self.stream_wall = self.clock()
        now_ms = self.stream_now_ms()
        result = sweep_conversations([(k, r.state) for k, r in records.items()], now_ms, self.cfg)
        active = sum(
            1
            for r in records.values()
            if not r.state.ended and now_ms - r.state.last_ms <= self.cfg.idle_timeout_ms
        )
        self.on_sweep(result.summaries, active)
        futures = [
            await self.send(
                conversation_summary.TOPIC, s.app_id.encode(), conversation_summary.encode(s), None
            )
            for s in result.summaries
        ]
        await asyncio.gather(*futures)
        for key, state in result.updates.items():
            record = records[key]
            self.conversations.put(
                record.partition, key, encode_record(record._replace(state=state)).decode()
            )
        for key in result.evictions:
            self.conversations.delete(records[key].partition, key)
        alerts = {key: decode_alert(raw.encode()) for key, raw in self.alerts.items()}
        for key in sweep_alerts([(k, v[1]) for k, v in alerts.items()], now_ms, self.cfg):
            self.alerts.delete(alerts[key][0], key)
