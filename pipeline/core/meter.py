"""Dispatch: decode a message by topic, apply it to the state stores, sweep idle state.

The stores are plain mutable mappings (a ``dict`` offline, a Faust table in the
workers); this module does no I/O of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass, field

from pipeline.core.alerts import is_forgettable, step_alert
from pipeline.core.config import MeterConfig
from pipeline.core.conversation import (
    ConversationState,
    close_if_idle,
    is_expired,
    step_conversation,
)
from schemas import agent_transfer, alert_delivery, conversation_turn
from schemas.agent_activity import AgentActivity
from schemas.agent_transfer import AgentTransfer
from schemas.alert_delivery import AlertDelivery
from schemas.billing_session import BillingSession
from schemas.conversation_summary import ConversationSummary
from schemas.conversation_turn import ConversationTurn

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


def decode_event(topic: str, raw: bytes | str, now_ms: int) -> Event:
    """Decode one input message; raises ``ValidationError`` when it is invalid."""
    return DECODERS[topic](raw, now_ms=now_ms)


def conversation_key(app_id: str, conversation_id: str) -> str:
    """The state key of a conversation."""
    return f"{app_id}{KEY_SEPARATOR}{conversation_id}"


def alert_key(app_id: str, event_id: str) -> str:
    """The state key of an alert delivery id."""
    return f"{app_id}{KEY_SEPARATOR}{event_id}"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one valid event did."""

    duplicate: bool
    out_of_order: bool
    sessions: tuple[BillingSession, ...] = ()
    agents: tuple[AgentActivity, ...] = ()
    summaries: tuple[ConversationSummary, ...] = ()


def apply_event(event: Event, conversations: MutableMapping[str, ConversationState],
                alerts: MutableMapping[str, int], cfg: MeterConfig) -> Outcome:
    """Apply one valid event to the stores and return what it produced."""
    if isinstance(event, AlertDelivery):
        key = alert_key(event.app_id, event.event_id)
        alert = step_alert(alerts.get(key), event, cfg)
        if alert.duplicate:
            return Outcome(duplicate=True, out_of_order=False)
        alerts[key] = alert.seen_at_ms
        assert alert.session is not None  # noqa: S101 - a new delivery always opens one
        return Outcome(duplicate=False, out_of_order=False, sessions=(alert.session,))
    key = conversation_key(event.app_id, event.conversation_id)
    step = step_conversation(conversations.get(key), event, cfg)
    if step.duplicate:
        return Outcome(duplicate=True, out_of_order=False)
    conversations[key] = step.state
    return Outcome(duplicate=False, out_of_order=step.out_of_order, sessions=step.sessions,
                   agents=step.agents, summaries=step.summaries)


@dataclass(slots=True)
class Sweep:
    """What a sweep decided: states to update (closed), keys to drop, summaries to emit."""

    updates: dict[str, ConversationState] = field(default_factory=dict)
    evictions: list[str] = field(default_factory=list)
    summaries: list[ConversationSummary] = field(default_factory=list)


def sweep_conversations(items: Iterable[tuple[str, ConversationState]], now_ms: int,
                        cfg: MeterConfig) -> Sweep:
    """Close idle segments and pick states to evict, as of ``now_ms`` (stream time).

    A state is evicted only ``eviction_grace_ms`` after it expired, so that a late
    event still finds it; until then :func:`step_conversation` treats it as
    forgotten anyway, which keeps results independent of when sweeps run.
    """
    result = Sweep()
    for key, state in items:
        closed, summary = close_if_idle(state, now_ms, cfg)
        if summary is not None:
            result.summaries.append(summary)
        if is_expired(state, now_ms - cfg.eviction_grace_ms, cfg):
            result.evictions.append(key)
        elif summary is not None:
            result.updates[key] = closed
    return result


def sweep_alerts(items: Iterable[tuple[str, int]], now_ms: int, cfg: MeterConfig) -> list[str]:
    """Keys of remembered alert deliveries that can be forgotten as of ``now_ms``."""
    return [key for key, seen_at in items if is_forgettable(seen_at, now_ms, cfg)]


@dataclass(slots=True)
class Tally:
    """Counts of what a run processed (the replay summary line)."""

    events: int = 0
    accepted: int = 0
    duplicates: int = 0
    invalid: int = 0
    out_of_order: int = 0
    sessions: dict[str, int] = field(
        default_factory=lambda: {"usage": 0, "voice": 0, "alert": 0})

    def add(self, outcome: Outcome) -> None:
        """Count one valid event's outcome."""
        self.events += 1
        if outcome.duplicate:
            self.duplicates += 1
            return
        self.accepted += 1
        self.out_of_order += outcome.out_of_order
        for session in outcome.sessions:
            self.sessions[session.kind] += 1

    def add_invalid(self) -> None:
        """Count one invalid event."""
        self.events += 1
        self.invalid += 1
