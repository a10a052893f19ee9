"""The meter's whole state model for one input partition number (SPEC section 2a).

Replay and the streaming workers hold exactly this: replay one per partition its
keys hash to, a worker one per partition it owns (restored from the changelog).
``conversation-turns`` and ``agent-transfers`` share a partition's conversation
stream time; ``alert-deliveries`` has its own.

The event ids a conversation saw are kept as 64-bit digests (:func:`event_digest`)
in an ``array('Q')``: 8 bytes an id in memory and in the changelog, whatever the
id's length. Replay and the workers both de-duplicate by digest, so they agree even
on a collision; the probability of one is in the README (State).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from hashlib import blake2b
from typing import TypeAlias

from pipeline.core.conversation import ConversationState

#: The event ids a conversation saw, as digests in the order they came.
SeenIds: TypeAlias = "array[int]"  # a string: array is not subscriptable before 3.12


def event_digest(event_id: str) -> int:
    """A stable 64-bit digest of an event id (never Python's per-process ``hash``)."""
    return int.from_bytes(blake2b(event_id.encode(), digest_size=8).digest(), "little")


def new_seen(digest: int) -> SeenIds:
    """The seen ids of a conversation whose first event has ``digest``."""
    return array("Q", (digest,))


@dataclass(slots=True)
class PartitionState:
    """Conversations, the event ids each saw, remembered alerts and the stream times.

    With ``track_changes`` (a worker's partitions; replay has no changelog) it also
    notes what changed since the last checkpoint: ``persisted`` maps each changed
    conversation to how many of its ids the changelog held before the change,
    ``forgotten`` names those freed meanwhile (they may have started afresh since),
    and ``changed_alerts`` the alert keys written or freed; ``legacy`` names the
    conversations whose changelog record is of an earlier format, to replace.
    """

    conversation_stream_ms: int = 0
    alert_stream_ms: int = 0
    conversations: dict[str, ConversationState] = field(default_factory=dict)
    seen: dict[str, SeenIds] = field(default_factory=dict)
    alerts: dict[str, int] = field(default_factory=dict)
    persisted: dict[str, int] = field(default_factory=dict)
    forgotten: set[str] = field(default_factory=set)
    changed_alerts: set[str] = field(default_factory=set)
    legacy: set[str] = field(default_factory=set)  # restored from an older changelog format
    track_changes: bool = False

    def touch(self, key: str) -> None:
        """Note that a conversation is about to change (call before changing it)."""
        if self.track_changes and key not in self.persisted:
            ids = self.seen.get(key)
            self.persisted[key] = 0 if ids is None else len(ids)

    def forget_conversation(self, key: str) -> None:
        """Drop a conversation and the ids it saw."""
        if self.track_changes:
            self.touch(key)
            self.forgotten.add(key)
        self.conversations.pop(key, None)
        self.seen.pop(key, None)

    def forget_alert(self, key: str) -> None:
        """Drop a remembered alert delivery."""
        self.alerts.pop(key, None)
        if self.track_changes:
            self.changed_alerts.add(key)

    def take_changes(self) -> tuple[dict[str, int], set[str], set[str]]:
        """What changed since the last call (see the class); resets it."""
        changes = (self.persisted, self.forgotten, self.changed_alerts)
        self.persisted, self.forgotten, self.changed_alerts = {}, set(), set()
        return changes
