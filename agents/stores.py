"""The meter's view of its Faust tables, and a per-batch overlay over them.

Tables hold JSON text (``str``) under ``str`` keys, and every write names its
partition, so the same code runs inside stream iteration and in timers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableMapping
from typing import Any, Protocol

from agents.codec import ConversationRecord, decode_record
from pipeline.core.conversation import ConversationState
from pipeline.core.meter import KEY_SEPARATOR


class TableStore(Protocol):
    """The four table operations the meter uses."""

    def get(self, key: str) -> str | None:
        """The value under ``key``, or None."""

    def put(self, partition: int, key: str, value: str) -> None:
        """Set ``key`` and send the change to the changelog partition."""

    def delete(self, partition: int, key: str) -> None:
        """Remove ``key`` and send a tombstone."""

    def items(self) -> Iterable[tuple[str, str]]:
        """A snapshot of every key and value held locally."""


class FaustTable:
    """A :class:`TableStore` over a Faust table (explicit-partition changelog writes)."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def get(self, key: str) -> str | None:
        """The value under ``key``, or None."""
        value = self._table.data.get(key)
        return value if isinstance(value, str) else None

    def put(self, partition: int, key: str, value: str) -> None:
        """Set ``key`` and send the change to the changelog partition."""
        self._table.data[key] = value
        self._table.send_changelog(partition, key, value)

    def delete(self, partition: int, key: str) -> None:
        """Remove ``key`` and send a tombstone."""
        self._table.data.pop(key, None)
        self._table.send_changelog(partition, key, None, value_serializer="raw")

    def items(self) -> list[tuple[str, str]]:
        """A snapshot of every key and value held locally."""
        return [(k, v) for k, v in self._table.data.items() if isinstance(v, str)]


class SeenOverlay(MutableMapping[str, int]):
    """The core's ``seen`` store (key: conversation key + event id), kept per conversation."""

    def __init__(self) -> None:
        self.by_conversation: dict[str, dict[str, int]] = {}

    @staticmethod
    def _split(key: str) -> tuple[str, str]:
        conversation, event_id = key.rsplit(KEY_SEPARATOR, 1)
        return conversation, event_id

    def __getitem__(self, key: str) -> int:
        conversation, event_id = self._split(key)
        return self.by_conversation[conversation][event_id]

    def __setitem__(self, key: str, value: int) -> None:
        conversation, event_id = self._split(key)
        self.by_conversation.setdefault(conversation, {})[event_id] = value

    def __delitem__(self, key: str) -> None:
        conversation, event_id = self._split(key)
        del self.by_conversation[conversation][event_id]

    def __iter__(self) -> Iterator[str]:
        for conversation, ids in self.by_conversation.items():
            for event_id in ids:
                yield f"{conversation}{KEY_SEPARATOR}{event_id}"

    def __len__(self) -> int:
        return sum(len(ids) for ids in self.by_conversation.values())


def load_conversation(
    table: TableStore, key: str, conversations: dict[str, ConversationState], seen: SeenOverlay
) -> None:
    """Bring one conversation's record into the overlay (once per batch)."""
    if key in seen.by_conversation:
        return
    raw = table.get(key)
    if raw is None:
        seen.by_conversation[key] = {}
        return
    record: ConversationRecord = decode_record(raw.encode())
    conversations[key] = record.state
    seen.by_conversation[key] = dict(record.seen)
