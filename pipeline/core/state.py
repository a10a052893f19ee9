"""The meter's whole state model for one input partition number (SPEC section 2a).

Replay and the streaming workers hold exactly this: replay one per partition its
keys hash to, a worker one per partition it owns (restored from the changelog).
``conversation-turns`` and ``agent-transfers`` share a partition's conversation
stream time; ``alert-deliveries`` has its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.core.conversation import ConversationState


@dataclass(slots=True)
class PartitionState:
    """Conversations, the event ids each saw, remembered alerts and the stream times.

    ``changed_conversations`` and ``changed_alerts`` name the keys written or freed
    since the worker last checkpointed, when ``track_changes`` is set (a worker's
    partitions; replay has no changelog): a key in them that is no longer held was
    freed, and its changelog record becomes a tombstone.
    """

    conversation_stream_ms: int = 0
    alert_stream_ms: int = 0
    conversations: dict[str, ConversationState] = field(default_factory=dict)
    seen: dict[str, set[str]] = field(default_factory=dict)
    alerts: dict[str, int] = field(default_factory=dict)
    changed_conversations: set[str] = field(default_factory=set)
    changed_alerts: set[str] = field(default_factory=set)
    track_changes: bool = False

    def forget_conversation(self, key: str) -> None:
        """Drop a conversation and the ids it saw."""
        self.conversations.pop(key, None)
        self.seen.pop(key, None)
        if self.track_changes:
            self.changed_conversations.add(key)

    def forget_alert(self, key: str) -> None:
        """Drop a remembered alert delivery."""
        self.alerts.pop(key, None)
        if self.track_changes:
            self.changed_alerts.add(key)

    def take_changes(self) -> tuple[set[str], set[str]]:
        """The changed conversation and alert keys since the last call; resets them."""
        changes = (self.changed_conversations, self.changed_alerts)
        self.changed_conversations, self.changed_alerts = set(), set()
        return changes
