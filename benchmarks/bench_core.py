"""Core and replay throughput on a generated trace (issue: metering core, performance).

Prints, as medians of --repeats runs, in events/s:
  baseline  orjson.loads of every message value (the floor of any Python decoder)
  shapes    orjson.loads + building the frozen event dataclass, no checks, no rules (the
            floor of any decoder that returns the schema's objects)
  core      decode + validation + session rules, single process (pipeline.core)
  replay    billing-meter replay end to end into embedded ClickHouse (fresh chdb database)
and each one's ratio to the baseline measured in the same run.

    python benchmarks/bench_core.py [--events 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson

from pipeline.core.config import MeterConfig
from pipeline.core.meter import apply_event, decode_event
from pipeline.core.state import PartitionState
from pipeline.eventfile import FileMessage, parse_line
from pipeline.replay import replay
from pipeline.tracegen import TraceSpec, generate
from schemas import agent_transfer, alert_delivery, conversation_turn
from schemas.fields import ValidationError
from sinks.base import BatchingSink
from sinks.clickhouse.store import open_store


def baseline(messages: list[FileMessage]) -> None:
    for message in messages:
        with contextlib.suppress(orjson.JSONDecodeError):
            orjson.loads(message.value)


def _turn(o: dict[str, Any]) -> object:
    g = o.get
    return conversation_turn.ConversationTurn(
        g("event_id"), g("app_id"), g("conversation_id"), g("channel"), g("actor"),
        g("agent_id"), g("occurred_at"), g("ends_conversation"),
    )  # fmt: skip


def _transfer(o: dict[str, Any]) -> object:
    g = o.get
    return agent_transfer.AgentTransfer(
        g("event_id"), g("app_id"), g("conversation_id"), g("channel"), g("direction"),
        g("agent_id"), g("occurred_at"),
    )  # fmt: skip


def _alert(o: dict[str, Any]) -> object:
    g = o.get
    return alert_delivery.AlertDelivery(
        g("event_id"), g("app_id"), g("alert_id"), g("user_id"), g("occurred_at")
    )


SHAPES = {
    conversation_turn.TOPIC: _turn,
    agent_transfer.TOPIC: _transfer,
    alert_delivery.TOPIC: _alert,
}


def shapes(messages: list[FileMessage]) -> None:
    """Decode and build each event struct from its fields as they are: no validation."""
    for message in messages:
        try:
            SHAPES[message.topic](orjson.loads(message.value))
        except (orjson.JSONDecodeError, AttributeError):
            continue


def core(messages: list[FileMessage], now_ms: int) -> None:
    part, cfg = PartitionState(), MeterConfig()
    for message in messages:
        try:
            event = decode_event(message.topic, message.value, now_ms)
        except ValidationError:
            continue
        apply_event(part, event, now_ms, cfg)


def median_rate(run: Callable[[], None], count: int, repeats: int) -> float:
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        rates.append(count / (time.perf_counter() - started))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    spec = TraceSpec(events=args.events, seed=42)
    lines = list(generate(spec))
    messages = [parse_line(line, n) for n, line in enumerate(lines, 1)]
    count = len(messages)
    print(f"trace: {count} messages ({args.events} valid events + duplicates + garbage)")
    base = median_rate(lambda: baseline(messages), count, args.repeats)
    shape_rate = median_rate(lambda: shapes(messages), count, args.repeats)
    core_rate = median_rate(lambda: core(messages, spec.end_ms), count, args.repeats)
    with tempfile.TemporaryDirectory() as path:
        url = f"chdb://{path}?database=bench"
        store = open_store(url)

        def run_replay() -> None:
            fresh = open_store(f"chdb://{path}?database=b{uuid.uuid4().hex[:8]}")
            replay(
                (parse_line(line, n) for n, line in enumerate(lines, 1)),
                BatchingSink(fresh),
                MeterConfig(),
                "file:bench",
                now_ms=spec.end_ms,
            )

        replay_rate = median_rate(run_replay, count, args.repeats)
        store.close()
    print(f"baseline (orjson.loads only): {base:>12,.0f} events/s")
    print(
        f"floor (loads + event struct):  {shape_rate:>12,.0f} events/s  "
        f"ratio {shape_rate / base:.3f}"
    )
    print(
        f"core (decode+rules):          {core_rate:>12,.0f} events/s  "
        f"ratio {core_rate / base:.3f}  target >= 150,000"
    )
    print(
        f"replay into chdb (end to end):{replay_rate:>12,.0f} events/s  "
        f"ratio {replay_rate / base:.3f}"
    )


if __name__ == "__main__":
    main()
