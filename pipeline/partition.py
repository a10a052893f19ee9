"""The steps the meter and replay share, per partition: decode, merge, apply, dead-letter.

**decode** each message once (validation; lateness is decided by the apply step with
the core), **merge** the conversation topics into SPEC 2b's order
(:class:`StreamMerge`, over :mod:`pipeline.core.ordering`), **apply** each with the
pure core to the partition's :class:`~pipeline.core.state.PartitionState`, and
**emit** what it produced, dead letters included, each with the key and timestamp it
is produced under. Nothing here does I/O: the meter encodes what is emitted and
commits it in one Kafka transaction, replay hands it to a sink.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from pipeline.core.config import MeterConfig
from pipeline.core.counts import Counts
from pipeline.core.meter import Event, apply_event, decode_or_error, late_error, processing_clock
from pipeline.core.meter import sweep as sweep_state
from pipeline.core.ordering import MERGED_TOPICS, Merge, Queued, position
from pipeline.core.state import PartitionState
from pipeline.spine import Message
from schemas.agent_activity import AgentActivity
from schemas.alert_delivery import AlertDelivery
from schemas.billing_session import BillingSession
from schemas.conversation_summary import ConversationSummary
from schemas.dead_letter import DeadLetter
from schemas.fields import ValidationError

Produced = BillingSession | AgentActivity | ConversationSummary | DeadLetter


class Admitted(NamedTuple):
    """A message taken in, decoded once (an invalid one carries its error)."""

    record: Message
    decoded: Event | ValidationError

    @property
    def occurred_ms(self) -> int:
        """Its ``occurred_at`` for the merge, 0 when invalid (it changes no state)."""
        decoded = self.decoded
        return 0 if isinstance(decoded, ValidationError) else decoded.occurred_at_ms


class Emitted(NamedTuple):
    """Something to produce, with its key and the input record's timestamp."""

    item: Produced
    key: bytes | None
    ts_ms: int | None


def decode(record: Message, now_ms: int) -> Admitted:
    """The decode step: the record's event, or why it is invalid, judged by its
    processing clock."""
    clock_ms = processing_clock(now_ms, record.ts_ms)
    return Admitted(record, decode_or_error(record.topic, record.value, clock_ms))


class StreamMerge:
    """One partition's merge of the conversation topics (SPEC 2b), with bounded holding.

    A consumer does not see a topic's next record before it has fetched it, so when
    one topic has nothing queued the other topic's head waits, as Kafka Streams'
    ``max.task.idle.ms`` does, until that topic is *idle*: read to its log end as of a
    fetch response that came at least ``max_hold_s`` after the head was queued
    ("caught up" alone is not enough: a producer's batch for one topic can reach the
    broker after a later batch for the other). No shortcut on what a topic delivered
    before: records of one topic are not sorted by the merge key, so only a queued head
    says what comes next. Replay passes no idle topic until its file ends, then drains.
    """

    __slots__ = ("max_hold_s", "merge")

    def __init__(self, max_hold_s: float = 0.0) -> None:
        self.max_hold_s = max_hold_s
        self.merge: Merge[Admitted] = Merge()

    def add(self, admitted: Admitted, now_s: float = 0.0) -> None:
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

    def drain(self) -> list[Admitted]:
        """Every queued record in merged order (the end of a finite input)."""
        return self.merge.drain()

    def first_held(self, topic: str) -> int | None:
        """The offset of the first record of ``topic`` still held, if any."""
        return self.merge.first_offset(MERGED_TOPICS.index(topic))

    def held(self, topic: str | None = None) -> int:
        """How many records are held (of one topic, or of both)."""
        return self.merge.held(None if topic is None else MERGED_TOPICS.index(topic))


class Applier:
    """The apply and dead-letter step: decoded records to what they produce, counted."""

    __slots__ = ("cfg", "source")

    def __init__(self, cfg: MeterConfig, source: str) -> None:
        self.cfg = cfg
        self.source = source  # a dead letter's ``source``: "kafka", or the file's

    def apply(
        self, state: PartitionState, records: Iterable[Admitted], now_ms: int, counts: Counts
    ) -> list[Emitted]:
        """Apply each record in order; dead-letter the invalid and the late."""
        out: list[Emitted] = []
        emit, cfg = out.append, self.cfg
        for record, event in records:
            if isinstance(event, ValidationError):
                emit(self.dead_letter(record, event, counts))
                continue
            if record.key != expected_key(event):
                counts.miskeyed[record.topic] += 1
            ts_ms = record.ts_ms
            outcome = apply_event(state, event, processing_clock(now_ms, ts_ms), cfg)
            if outcome.late:
                emit(self.dead_letter(record, late_error(cfg), counts))
                continue
            counts.outcome(record.topic, outcome)
            for session in outcome.sessions:  # plain loops: this runs for every event
                emit(Emitted(session, session.app_id.encode(), ts_ms))
            for agent in outcome.agents:
                emit(Emitted(agent, agent.app_id.encode(), ts_ms))
            for summary in outcome.summaries:
                emit(Emitted(summary, summary.app_id.encode(), ts_ms))
        return out

    def dead_letter(self, record: Message, error: ValidationError, counts: Counts) -> Emitted:
        """The dead letter of an invalid or late record, counted."""
        letter = DeadLetter.from_error(
            error,
            source=self.source,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            raw=record.value or b"",
        )
        counts.invalid(letter)
        return Emitted(letter, record.key, record.ts_ms)

    def sweep(self, state: PartitionState, counts: Counts) -> list[Emitted]:
        """Free forgotten state and report idle segments (unstamped)."""
        summaries = sweep_state(state, self.cfg)
        counts.closed(summaries)
        return [Emitted(s, s.app_id.encode(), None) for s in summaries]


def expected_key(event: Event) -> bytes:
    """The key SPEC section 1 gives an event: its conversation id, or an alert's app id."""
    return (event.app_id if isinstance(event, AlertDelivery) else event.conversation_id).encode()
