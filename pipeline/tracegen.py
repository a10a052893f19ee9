"""A deterministic synthetic trace: conversations with transfers, voice, alerts, duplicates,
out-of-order events and garbage, as event-file lines (SPEC section 7)."""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from schemas.fields import format_ms

_DAY_MS = 86_400_000
_GARBAGE = (
    ("conversation-turns", b"not json at all"),
    ("agent-transfers", b'{"event_id": "x"}'),
    (
        "conversation-turns",
        b'{"event_id": "g", "app_id": "a", "conversation_id": "c", '
        b'"channel": "web", "actor": "robot", "occurred_at": 1764158400000}',
    ),
    (
        "alert-deliveries",
        b'{"event_id": "g", "app_id": "a", "alert_id": "r", "occurred_at": "yesterday"}',
    ),
    ("alert-deliveries", b"[1, 2, 3]"),
    (
        "conversation-turns",
        b'{"event_id": "g", "app_id": "a", "conversation_id": "c", '
        b'"channel": "web", "actor": "user", "occurred_at": 12}',
    ),
)


@dataclass(frozen=True, slots=True)
class TraceSpec:
    """Shape of the trace. ``end_ms`` is the latest ``occurred_at``; events span ``span_ms``."""

    events: int = 10_000
    seed: int = 1
    end_ms: int = 1_764_158_400_000  # 2025-11-26T12:00:00Z
    span_ms: int = _DAY_MS
    apps: int = 5
    agents: int = 40
    duplicate_rate: float = 0.02
    disorder_rate: float = 0.02
    garbage_rate: float = 0.005
    hostile_rate: float = 0.0  # events moved days back, up to 20 h ahead, or re-sent late
    max_events_per_conversation: int = 30  # fewer: more conversations live at once


def generate(spec: TraceSpec) -> Iterator[bytes]:
    """Event-file lines, in processing order."""
    rng = random.Random(spec.seed)  # noqa: S311 - synthetic data, not security
    start_ms = spec.end_ms - spec.span_ms
    heap: list[tuple[int, int, str, dict[str, Any]]] = []
    budget = spec.events
    serial = 0
    while budget > 0:
        batch = (
            _conversation(rng, spec, serial, start_ms)
            if rng.random() < 0.95
            else _alerts(rng, spec, serial, start_ms)
        )
        for at_ms, topic, value in batch[:budget]:
            heapq.heappush(heap, (at_ms, len(heap), topic, value))
        budget -= min(len(batch), budget)
        serial += 1
    yield from _perturb(rng, spec, [heapq.heappop(heap) for _ in range(len(heap))])


def _perturb(
    rng: random.Random, spec: TraceSpec, ordered: list[tuple[int, int, str, dict[str, Any]]]
) -> Iterator[bytes]:
    pending: list[tuple[str, dict[str, Any]]] = []
    resend: list[tuple[str, dict[str, Any]]] = []
    for _, _, topic, original in ordered:
        roll = rng.random()
        value = original
        if rng.random() < spec.hostile_rate:
            value = _hostile(rng, spec, topic, original, resend)
        if roll < spec.garbage_rate:
            garbage_topic, raw = rng.choice(_GARBAGE)
            yield _line(garbage_topic, raw=raw)
        elif roll < spec.garbage_rate + spec.disorder_rate:
            pending.append((topic, value))  # delayed: comes after later events
            continue
        yield _line(topic, value=value)
        if rng.random() < spec.duplicate_rate:
            pending.append((topic, value))
        if pending and rng.random() < 0.3:
            late_topic, late_value = pending.pop(0)
            yield _line(late_topic, value=late_value)
    for late_topic, late_value in pending + resend:
        yield _line(late_topic, value=late_value)


def _hostile(
    rng: random.Random,
    spec: TraceSpec,
    topic: str,
    value: dict[str, Any],
    resend: list[tuple[str, dict[str, Any]]],
) -> dict[str, Any]:
    """A valid event with a hostile time: days late, hours ahead, or re-sent at the end."""
    kind = rng.randrange(3)
    if kind == 2:
        resend.append((topic, value))  # a duplicate long after the original
        return value
    if kind == 0:  # 2 to 4 days before the trace: late against any stream time in it
        at_ms = spec.end_ms - spec.span_ms - rng.randint(2 * _DAY_MS, 4 * _DAY_MS)
    else:  # 1 to 20 hours after the trace's end (which is an hour before the clock)
        at_ms = spec.end_ms + rng.randint(3_600_000, 20 * 3_600_000)
    return {**value, "occurred_at": at_ms}


def _line(topic: str, *, value: dict[str, Any] | None = None, raw: bytes | None = None) -> bytes:
    if raw is not None:
        return orjson.dumps({"topic": topic, "raw": raw.decode()}) + b"\n"
    return orjson.dumps({"topic": topic, "value": value}) + b"\n"


def _conversation(
    rng: random.Random, spec: TraceSpec, serial: int, start_ms: int
) -> list[tuple[int, str, dict[str, Any]]]:
    app = f"app-{rng.randrange(spec.apps) + 1}"
    conv = f"conv-{spec.seed}-{serial}"
    channel = rng.choice(("web", "web", "slack", "voice"))
    at = start_ms + rng.randrange(spec.span_ms)
    base = {"app_id": app, "conversation_id": conv, "channel": channel}
    events: list[tuple[int, str, dict[str, Any]]] = []
    agent: str | None = None
    for index in range(rng.randint(2, spec.max_events_per_conversation)):
        at += rng.choice((5_000, 20_000, 60_000, 120_000, 240_000)) if index else 0
        if rng.random() < 0.01:
            at += 20 * 60_000  # idle gap: a new segment
        event_id = f"{conv}-{index}"
        if rng.random() < 0.08:
            agent = f"agent-{rng.randrange(spec.agents)}" if agent is None else None
            events.append(
                (
                    at,
                    "agent-transfers",
                    {
                        **base,
                        "event_id": event_id,
                        "direction": "to_agent" if agent else "to_bot",
                        "agent_id": agent,
                        "occurred_at": _stamp(rng, at),
                    },
                )
            )
            continue
        actor = "agent" if agent and rng.random() < 0.5 else rng.choice(("user", "bot"))
        events.append(
            (
                at,
                "conversation-turns",
                {
                    **base,
                    "event_id": event_id,
                    "actor": actor,
                    "agent_id": agent if actor == "agent" else None,
                    "occurred_at": _stamp(rng, at),
                },
            )
        )
    if rng.random() < 0.5 and events[-1][1] == "conversation-turns":
        events[-1][2]["ends_conversation"] = True
    return events


def _alerts(
    rng: random.Random, spec: TraceSpec, serial: int, start_ms: int
) -> list[tuple[int, str, dict[str, Any]]]:
    app = f"app-{rng.randrange(spec.apps) + 1}"
    first = start_ms + rng.randrange(8 * 3_600_000)
    return [
        (
            at,
            "alert-deliveries",
            {
                "event_id": f"delivery-{spec.seed}-{serial}-{n}",
                "app_id": app,
                "alert_id": f"report-{serial}",
                "user_id": f"user-{rng.randrange(100)}",
                "occurred_at": _stamp(rng, at),
            },
        )
        for n, at in enumerate(range(first, start_ms + spec.span_ms, 8 * 3_600_000))
    ]


def _stamp(rng: random.Random, at_ms: int) -> str | int:
    return at_ms if rng.random() < 0.5 else format_ms(at_ms)
