"""Dispatch: decode a message by topic and apply it to its partition's state (SPEC 2-4, 2a).

Replay and the streaming workers call these same functions on the same
:class:`~pipeline.core.state.PartitionState`; this module does no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from pipeline.core.alerts import step_alert
from pipeline.core.config import MeterConfig
from pipeline.core.conversation import close_if_idle, step_conversation, summarize
from pipeline.core.state import PartitionState, event_digest, new_seen
from schemas import agent_transfer, alert_delivery, conversation_turn
from schemas.agent_activity import AgentActivity
from schemas.agent_transfer import AgentTransfer
from schemas.alert_delivery import AlertDelivery
from schemas.billing_session import BillingSession
from schemas.conversation_summary import ConversationSummary
from schemas.conversation_turn import ConversationTurn
from schemas.fields import ValidationError

Event = ConversationTurn | AgentTransfer | AlertDelivery
Decoder = Callable[..., Event]

#: The input topics and their decoders (SPEC section 1).
DECODERS: dict[str, Decoder] = {
    conversation_turn.TOPIC: conversation_turn.decode,
    agent_transfer.TOPIC: agent_transfer.decode,
    alert_delivery.TOPIC: alert_delivery.decode,
}
INPUT_TOPICS = tuple(DECODERS)
KEY_SEPARATOR = "\x1f"  # ids never contain control characters, so keys are unambiguous


def decode_event(topic: str, raw: bytes | str | None, now_ms: int) -> Event:
    """Decode one input message; raises ``ValidationError`` when it is invalid (a record
    without a value, a tombstone, included: any client can send one)."""
    if raw is None:
        raise ValidationError(None, "not_an_object", "a null value (a tombstone), not an event")
    return DECODERS[topic](raw, now_ms)


def decode_or_error(topic: str, raw: bytes | str | None, now_ms: int) -> Event | ValidationError:
    """The message's event, or the error that makes it invalid (replay and the meter keep
    an invalid record's place, so they hold the error rather than raise it)."""
    try:
        return decode_event(topic, raw, now_ms)
    except ValidationError as error:
        return error


def processing_clock(now_ms: int, record_ms: int | None) -> int:
    """The clock a record is judged by (its validity, and how far stream time may go):
    the worker's clock, or the record's timestamp if that is earlier.

    So a record is judged as of when it reached Kafka, whenever it is processed: a
    re-delivery after a crash, a backlog, or replay of a dump of the topics all give the
    same outcome, and a producer whose clock runs ahead gains nothing. Without a
    timestamp (a file in processing order, or none set) it is the worker's clock.
    """
    return record_ms if record_ms is not None and 0 < record_ms < now_ms else now_ms


class Outcome(NamedTuple):
    """What one valid event did: accepted (with what it produced), duplicate or late."""

    duplicate: bool
    out_of_order: bool
    sessions: tuple[BillingSession, ...] = ()
    agents: tuple[AgentActivity, ...] = ()
    summaries: tuple[ConversationSummary, ...] = ()
    late: bool = False


DUPLICATE = Outcome(duplicate=True, out_of_order=False)
ACCEPTED = Outcome(duplicate=False, out_of_order=False)
LATE = Outcome(duplicate=False, out_of_order=False, late=True)


def apply_event(part: PartitionState, event: Event, now_ms: int, cfg: MeterConfig) -> Outcome:
    """Apply one valid event to its partition's state; ``now_ms`` is the processing clock."""
    if isinstance(event, AlertDelivery):
        return _apply_alert(part, event, now_ms, cfg)
    at_ms = event.occurred_at_ms
    stream_ms = part.conversation_stream_ms
    if stream_ms - at_ms > cfg.state_retention_ms:
        return LATE  # decided after validation, before de-duplication (SPEC 2a)
    if at_ms > stream_ms and now_ms > stream_ms:  # never past the processing clock
        stream_ms = part.conversation_stream_ms = at_ms if at_ms < now_ms else now_ms
    key = f"{event.app_id}{KEY_SEPARATOR}{event.conversation_id}"
    state = part.conversations.get(key)
    forgotten: tuple[ConversationSummary, ...] = ()
    if state is not None and stream_ms - state.last_ms > cfg.state_retention_ms:
        forgotten = () if state.reported else (summarize(state, "idle"),)
        part.forget_conversation(key)
        state = None
    seen = part.seen.get(key)
    digest = event_digest(event.event_id)
    if seen is not None and digest in seen:
        return DUPLICATE
    new_state, out_of_order, sessions, agents, summaries = step_conversation(state, event, cfg)
    if part.track_changes:
        part.touch(key)
    part.conversations[key] = new_state
    if seen is None:
        part.seen[key] = new_seen(digest)
    else:
        seen.append(digest)
    if out_of_order or sessions or agents or summaries or forgotten:
        return Outcome(False, out_of_order, sessions, agents, forgotten + summaries)
    return ACCEPTED  # most events: one shared value


def _apply_alert(
    part: PartitionState, event: AlertDelivery, now_ms: int, cfg: MeterConfig
) -> Outcome:
    at_ms = event.occurred_at_ms
    stream_ms = part.alert_stream_ms
    if stream_ms - at_ms > cfg.state_retention_ms:
        return LATE
    if at_ms > stream_ms and now_ms > stream_ms:
        stream_ms = part.alert_stream_ms = at_ms if at_ms < now_ms else now_ms
    key = f"{event.app_id}{KEY_SEPARATOR}{event.event_id}"
    remembered = part.alerts.get(key)
    if remembered is not None and stream_ms - remembered > cfg.alert_dedup_horizon_ms:
        remembered = None  # forgotten (SPEC 2a)
    alert = step_alert(remembered, event, cfg)
    if alert.duplicate or alert.session is None:
        return DUPLICATE
    part.alerts[key] = alert.seen_at_ms
    if part.track_changes:
        part.changed_alerts.add(key)
    return Outcome(duplicate=False, out_of_order=False, sessions=(alert.session,))


def sweep(part: PartitionState, cfg: MeterConfig) -> list[ConversationSummary]:
    """Free what the rules have already forgotten, and report idle segments.

    Both are decided against the partition's stream times, which only events move, so
    a sweep changes no session and no later outcome: :func:`apply_event` treats a
    forgotten conversation exactly as a missing one. Returns the summaries to emit.
    """
    summaries: list[ConversationSummary] = []
    stream_ms = part.conversation_stream_ms
    for key, state in list(part.conversations.items()):
        if stream_ms - state.last_ms > cfg.state_retention_ms:
            if not state.reported:
                summaries.append(summarize(state, "idle"))
            part.forget_conversation(key)
            continue
        reported, summary = close_if_idle(state, stream_ms, cfg)
        if summary is not None:
            summaries.append(summary)
            part.touch(key)
            part.conversations[key] = reported
    alert_ms = part.alert_stream_ms
    for key, seen_at in list(part.alerts.items()):
        if alert_ms - seen_at > cfg.alert_dedup_horizon_ms:
            part.forget_alert(key)
    return summaries


def late_error(cfg: MeterConfig) -> ValidationError:
    """The dead-letter reason of a late event (SPEC 2a)."""
    hours = cfg.state_retention_ms / 3_600_000
    return ValidationError(
        "occurred_at",
        "late",
        f"is more than STATE_RETENTION ({hours:g} h) behind its partition's stream time",
    )
