"""Records to column-oriented rows, per table (pure)."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from schemas.agent_activity import AgentActivity
from schemas.billing_session import BillingSession
from schemas.conversation_summary import ConversationSummary
from schemas.dead_letter import DeadLetter
from sinks.base import Batch
from sinks.clickhouse.ddl import DAY_MS, QUARTER_MS

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


class DaySpan(NamedTuple):
    """The sessions of one batch in one UTC day: which apps, first and last ``opened_at``."""

    day: int
    apps: list[str]
    first_ms: int
    last_ms: int


def day_spans(sessions: pa.Table) -> list[DaySpan]:
    """Group a batch of sessions (an Arrow table) by UTC day, in C."""
    opened = pc.cast(sessions["opened_at"], pa.int64())
    grouped = (
        pa.table({"day": pc.divide(opened, DAY_MS), "ms": opened, "app": sessions["app_id"]})
        .group_by("day")
        .aggregate([("ms", "min"), ("ms", "max"), ("app", "distinct")])
    )
    return sorted(
        DaySpan(day, sorted(apps), first, last)
        for day, first, last, apps in zip(
            grouped["day"].to_pylist(),
            grouped["ms_min"].to_pylist(),
            grouped["ms_max"].to_pylist(),
            grouped["app_distinct"].to_pylist(),
            strict=True,
        )
    )


_ARROW_TYPES = {
    "segment": pa.uint32(),
    "slice": pa.uint32(),
    "opened_at": pa.timestamp("ms", "UTC"),
}


def sessions_arrow(names: tuple[str, ...], columns: list[list[object]]) -> pa.Table:
    """A batch of sessions as an Arrow table (built in C: the insert's largest cost)."""
    return pa.table(
        {
            name: pa.array(column, _ARROW_TYPES.get(name, pa.string()))
            for name, column in zip(names, columns, strict=True)
        }
    )


_JSON_SCHEMA = pa.schema(
    [
        ("session_id", pa.string()),
        ("kind", pa.string()),
        ("app_id", pa.string()),
        ("conversation_id", pa.string()),
        ("segment", pa.int64()),
        ("slice", pa.int64()),
        ("channel", pa.string()),
        ("opened_at_ms", pa.int64()),
    ]
)
# A tuple, made an Arrow array where it is used: pa.array() of a Python list imports pandas
# (about 0.2 s), which a module constant would cost every report and CLI run.
_KINDS = ("usage", "voice", "alert")


def sessions_from_json(values: Sequence[bytes]) -> pa.Table | None:
    """``billing-sessions`` message values decoded column-wise in C++ (Arrow's JSON reader),
    as ``sessions_arrow`` builds them; None if any value is not a valid session (the caller
    then decodes them one by one, naming what is wrong). Valid means what
    ``schemas.billing_session.decode`` accepts: every field present with its JSON type, a
    known kind, and counters that fit the table's columns."""
    try:
        raw = pj.read_json(
            io.BytesIO(b"\n".join(values)),
            parse_options=pj.ParseOptions(
                explicit_schema=_JSON_SCHEMA, unexpected_field_behavior="ignore"
            ),
        )
        if raw.num_rows != len(values) or any(column.null_count for column in raw.columns):
            return None
        if not pc.all(pc.is_in(raw["kind"], value_set=pa.array(_KINDS))).as_py():
            return None
        return pa.table(
            {
                "session_id": raw["session_id"],
                "kind": raw["kind"],
                "app_id": raw["app_id"],
                "conversation_id": raw["conversation_id"],
                "segment": pc.cast(raw["segment"], pa.uint32()),
                "slice": pc.cast(raw["slice"], pa.uint32()),
                "channel": raw["channel"],
                "opened_at": pc.cast(raw["opened_at_ms"], pa.timestamp("ms", "UTC")),
            }
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
