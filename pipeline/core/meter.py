"""Dispatch: decode a message by topic, apply it to the state stores, sweep idle state.

The stores are plain mutable mappings (a ``dict`` offline, a Faust table in the
workers); this module does no I/O of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import NamedTuple

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


class Outcome(NamedTuple):
    """What one valid event did."""

    duplicate: bool
    out_of_order: bool
    sessions: tuple[BillingSession, ...] = ()
    agents: tuple[AgentActivity, ...] = ()
    summaries: tuple[ConversationSummary, ...] = ()


DUPLICATE = Outcome(duplicate=True, out_of_order=False)
ACCEPTED = Outcome(duplicate=False, out_of_order=False)


@dataclass(slots=True)
class Stores:
    """The meter's state, as mutable mappings (dicts offline, Faust tables in workers).

    ``conversations``: conversation key to its state. ``seen``: conversation key +
    event id to the time it was processed (the event-id de-duplication of SPEC
    section 4). ``alerts``: app id + delivery id to the delivery time.
    """

    conversations: MutableMapping[str, ConversationState] = field(default_factory=dict)
    seen: MutableMapping[str, int] = field(default_factory=dict)
    alerts: MutableMapping[str, int] = field(default_factory=dict)


def apply_event(event: Event, stores: Stores, cfg: MeterConfig) -> Outcome:
    """Apply one valid event to the stores and return what it produced."""
    if isinstance(event, AlertDelivery):
        return _apply_alert(event, stores.alerts, cfg)
    key = f"{event.app_id}{KEY_SEPARATOR}{event.conversation_id}"
    seen_key = f"{key}{KEY_SEPARATOR}{event.event_id}"
    seen_at = stores.seen.get(seen_key)
    if seen_at is not None and event.occurred_at_ms - seen_at <= cfg.state_retention_ms:
        return DUPLICATE  # processed within STATE_RETENTION, in any segment
    state, out_of_order, sessions, agents, summaries = step_conversation(
        stores.conversations.get(key), event, cfg
    )
    stores.conversations[key] = state
    stores.seen[seen_key] = state.last_ms
    if out_of_order or sessions or agents or summaries:
        return Outcome(False, out_of_order, sessions, agents, summaries)
    return ACCEPTED  # most events: one shared value


def _apply_alert(
    event: AlertDelivery, alerts: MutableMapping[str, int], cfg: MeterConfig
) -> Outcome:
    key = alert_key(event.app_id, event.event_id)
    alert = step_alert(alerts.get(key), event, cfg)
    if alert.duplicate or alert.session is None:
        return DUPLICATE
    alerts[key] = alert.seen_at_ms
    return Outcome(duplicate=False, out_of_order=False, sessions=(alert.session,))


@dataclass(slots=True)
class Sweep:
    """What a sweep decided: states to update (reported), keys to drop, summaries to emit."""

    updates: dict[str, ConversationState] = field(default_factory=dict)
    evictions: list[str] = field(default_factory=list)
    summaries: list[ConversationSummary] = field(default_factory=list)


def sweep_conversations(
    items: Iterable[tuple[str, ConversationState]], now_ms: int, cfg: MeterConfig
) -> Sweep:
    """Close idle segments and pick states to evict, as of ``now_ms`` (stream time).

    A state is evicted only ``eviction_grace_ms`` after it expired, so that a late
    event still finds it; until then :func:`step_conversation` treats it as
    forgotten anyway, which keeps results independent of when sweeps run.
    """
    result = Sweep()
    for key, state in items:
        reported, summary = close_if_idle(state, now_ms, cfg)
        if summary is not None:
            result.summaries.append(summary)
        if is_expired(state, now_ms - cfg.eviction_grace_ms, cfg):
            result.evictions.append(key)
        elif summary is not None:
            result.updates[key] = reported
    return result


def sweep_alerts(items: Iterable[tuple[str, int]], now_ms: int, cfg: MeterConfig) -> list[str]:
    """Keys of remembered alert deliveries that can be forgotten as of ``now_ms``."""
    return [key for key, seen_at in items if is_forgettable(seen_at, now_ms, cfg)]


def sweep_seen(items: Iterable[tuple[str, int]], now_ms: int, cfg: MeterConfig) -> list[str]:
    """Keys of remembered event ids that can be forgotten as of ``now_ms`` (retention + grace)."""
    limit = cfg.state_retention_ms + cfg.eviction_grace_ms
    return [key for key, seen_at in items if now_ms - seen_at > limit]


@dataclass(slots=True)
class Tally:
    """Counts of what a run processed (the replay summary line)."""

    events: int = 0
    accepted: int = 0
    duplicates: int = 0
    invalid: int = 0
    out_of_order: int = 0
    sessions: dict[str, int] = field(default_factory=lambda: {"usage": 0, "voice": 0, "alert": 0})

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


def sweep(stores: Stores, now_ms: int, cfg: MeterConfig) -> list[ConversationSummary]:
    """Close idle segments and drop expired state of every store, as of stream time ``now_ms``.

    Returns the summaries of the segments it closed.
    """
    result = sweep_conversations(list(stores.conversations.items()), now_ms, cfg)
    for key, state in result.updates.items():
        stores.conversations[key] = state
    for key in result.evictions:
        del stores.conversations[key]
    for key in sweep_seen(list(stores.seen.items()), now_ms, cfg):
        del stores.seen[key]
    for key in sweep_alerts(list(stores.alerts.items()), now_ms, cfg):
        del stores.alerts[key]
    return result.summaries
