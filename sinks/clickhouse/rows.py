"""Records to column-oriented rows, per table (pure)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from schemas.agent_activity import AgentActivity
from schemas.billing_session import BillingSession
from schemas.conversation_summary import ConversationSummary
from schemas.dead_letter import DeadLetter
from sinks.base import Batch

Columns = tuple[tuple[str, ...], list[list[object]]]


def _sessions(records: Sequence[BillingSession]) -> Columns:
    names = (
        "session_id",
        "kind",
        "app_id",
        "conversation_id",
        "segment",
        "slice",
        "channel",
        "opened_at",
    )
    return names, [
        [r.session_id for r in records],
        [r.kind for r in records],
        [r.app_id for r in records],
        [r.conversation_id for r in records],
        [r.segment for r in records],
        [r.slice for r in records],
        [r.channel for r in records],
        [r.opened_at_ms for r in records],  # DateTime64(3): raw milliseconds
    ]


DAY_MS = 86_400_000
QUARTER_MS = 900_000


def _agents(records: Sequence[AgentActivity]) -> Columns:
    """Per app, UTC day and agent, the mask of the quarter-hours it was active in."""
    masks: dict[tuple[str, int, str], int] = {}
    for r in records:
        key = (r.app_id, r.quarter_ms // DAY_MS, r.agent_id)
        masks[key] = masks.get(key, 0) | 1 << (r.quarter_ms % DAY_MS // QUARTER_MS)
    return ("app_id", "day", "agent_id", "mask"), [
        [app for app, _, _ in masks],
        [day for _, day, _ in masks],  # Date: days since the epoch
        [agent for _, _, agent in masks],
        list(masks.values()),
    ]


def _summaries(records: Sequence[ConversationSummary]) -> Columns:
    names = (
        "app_id",
        "conversation_id",
        "segment",
        "channel",
        "started_at",
        "ended_at",
        "bot_ms",
        "agent_ms",
        "interaction_ms",
        "usage_sessions",
        "voice_sessions",
        "cause",
    )
    return names, [[getattr(r, _SUMMARY_FIELDS.get(n, n)) for r in records] for n in names]


_SUMMARY_FIELDS = {"started_at": "started_at_ms", "ended_at": "ended_at_ms"}


def _dead_letters(records: Sequence[DeadLetter]) -> Columns:
    names = (
        "source",
        "source_topic",
        "partition",
        "offset",
        "reason_code",
        "field",
        "reason",
        "raw",
    )
    return names, [[getattr(r, n) for r in records] for n in names]


_CONVERTERS: dict[str, Callable[[Sequence[Any]], Columns]] = {
    "sessions": _sessions,
    "agent_days": _agents,
    "conversations": _summaries,
    "dead_letters": _dead_letters,
}


#: The table a batch of each kind of record is written to.
TARGETS = {"agent_activity": "agent_days"}


def to_columns(batch: Batch) -> Columns:
    """Column names and column-oriented data for ``batch``'s table."""
    return _CONVERTERS[TARGETS.get(batch.table, batch.table)](batch.records)


def touched_quarters(records: Sequence[BillingSession]) -> list[tuple[str, int]]:
    """The (app, quarter-hour start in seconds) buckets a batch of sessions falls in."""
    return sorted({(r.app_id, r.opened_at_ms // QUARTER_MS * 900) for r in records})
