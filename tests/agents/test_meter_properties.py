"""Property: for any trace, replay and the meter's spine give the same sessions and dead letters.

The trace is hostile (events days late or hours ahead, duplicates, garbage, ends,
transfers, alerts over several partitions). The spine gets it as Kafka would: each
topic partition in offset order but the topics interleaved at random, in random
chunks, with crashes that throw the meter away and reopen every partition from the
changelog and the offsets of its last committed checkpoint, with fetches that
repeat records already taken in, and with sweeps at random moments.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections import Counter

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from agents import changelog
from agents.kafka.records import Delivery, Opened, Record
from agents.meter import INPUTS, Meter
from agents.metrics import BillingMetrics
from agents.settings import WorkerSettings
from pipeline.core.config import HOUR_MS, MINUTE_MS, MeterConfig
from pipeline.core.partitioning import partition_for
from pipeline.eventfile import FileMessage
from pipeline.replay import replay
from schemas import billing_session, dead_letter
from sinks.base import Batch, BatchingSink
from tests.agents.fakes import FakeLink
from tests.factories import T0

PARTITIONS = 3
CFG = MeterConfig(state_retention_ms=3 * HOUR_MS, alert_dedup_horizon_ms=2 * HOUR_MS)
NOW_MS = T0 + 10 * 24 * HOUR_MS
KINDS = ["user", "bot", "agent", "to_agent", "to_bot", "end", "alert", "garbage", "garbage", "dup"]

steps = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=40).map(lambda m: m * MINUTE_MS),  # gap
        st.sampled_from(KINDS),
        st.integers(min_value=0, max_value=5),  # conversation
        st.sampled_from([0, 0, 0, 0, -2 * 24, -5, 3]),  # hours off the trace's clock
    ),
    min_size=1,
    max_size=80,
)


def build(trace: list[tuple[int, str, int, int]]) -> list[FileMessage]:
    messages: list[FileMessage] = []
    now = T0
    for index, (gap, kind, conv, skew) in enumerate(trace):
        now += gap
        at = now + skew * HOUR_MS
        if kind == "garbage":
            messages.append(FileMessage(index + 1, "conversation-turns", b"c", b"{oops"))
            continue
        if kind == "dup" and messages:
            messages.append(
                dataclasses.replace(messages[(conv * 7) % len(messages)], line=index + 1)
            )
            continue
        common = {
            "app_id": "a",
            "conversation_id": f"c{conv}",
            "channel": "voice" if conv % 2 else "web",
        }
        if kind == "alert":
            body = {"event_id": f"d{conv}", "app_id": "a", "alert_id": "r", "occurred_at": at}
            messages.append(FileMessage(index + 1, "alert-deliveries", b"a", orjson.dumps(body)))
            continue
        if kind in ("to_agent", "to_bot"):
            topic = "agent-transfers"
            body = {**common, "direction": kind, "agent_id": "x" if kind == "to_agent" else None}
        else:
            topic = "conversation-turns"
            actor = "user" if kind in ("end", "dup") else kind
            body = {**common, "actor": actor, "agent_id": "x" if actor == "agent" else None}
            body["ends_conversation"] = kind == "end"
        body.update(event_id=f"e{index}", occurred_at=at)
        messages.append(FileMessage(index + 1, topic, f"c{conv}".encode(), orjson.dumps(body)))
    return messages


class Capture:
    def __init__(self) -> None:
        self.sessions: set[tuple[str, int]] = set()
        self.letters: Counter[tuple[str, str]] = Counter()

    def write(self, batch: Batch) -> None:
        for record in batch.records:
            if isinstance(record, billing_session.BillingSession):
                self.sessions.add((record.session_id, record.opened_at_ms))
            elif isinstance(record, dead_letter.DeadLetter):
                self.letters[(record.source_topic, record.reason_code)] += 1


def by_replay(messages: list[FileMessage]) -> Capture:
    capture = Capture()
    replay(messages, BatchingSink(capture), CFG, "file:x", partitions=PARTITIONS, now_ms=NOW_MS)
    return capture


def as_records(messages: list[FileMessage]) -> dict[tuple[str, int], list[Record]]:
    """What the producer would write: per topic partition, in file order, stamped in order."""
    logs: dict[tuple[str, int], list[Record]] = {}
    for seq, m in enumerate(messages, 1):
        partition = partition_for(m.key or b"", PARTITIONS)
        log = logs.setdefault((m.topic, partition), [])
        log.append(Record(m.topic, partition, len(log), T0 + seq, m.key, m.value, seq))
    return logs


def new_meter(link: FakeLink, clock: list[float]) -> Meter:
    settings_ = WorkerSettings(cfg=CFG, max_hold_s=1.0)
    meter = Meter(settings_, link, BillingMetrics.create(CollectorRegistry()), lambda: clock[0])
    for partition in range(PARTITIONS):
        link.epochs[partition] = link.epochs.get(partition, 0) + 1
        committed = next(
            (o for p, _, o in reversed(link.log) if p == partition), dict.fromkeys(INPUTS, 0)
        )
        opened = Opened(
            partition,
            link.epochs[partition],
            changelog.restorer_of(link.changelog_of(partition)),
            committed,
        )
        meter.open(opened)
    return meter


def by_spine(messages: list[FileMessage], rnd: random.Random) -> Capture:
    logs, link, clock = as_records(messages), FakeLink(), [NOW_MS / 1000]
    meter = new_meter(link, clock)
    positions = dict.fromkeys(logs, 0)
    while any(positions[tp] < len(records) for tp, records in logs.items()):
        roll = rnd.random()
        if roll < 0.05:  # a crash: everything not checkpointed is lost, Kafka re-delivers
            meter = new_meter(link, clock)
            for topic, partition in positions:
                positions[(topic, partition)] = meter.tasks[partition].next_offsets[topic]
            continue
        if roll < 0.1:
            asyncio.run(meter.sweep())
            continue
        tp = rnd.choice([tp for tp, records in logs.items() if positions[tp] < len(records)])
        if roll < 0.3:  # a fetch from an older position: records the meter already took in
            positions[tp] = max(0, positions[tp] - rnd.randint(1, 4))
        chunk = logs[tp][positions[tp] : positions[tp] + rnd.randint(1, 6)]
        positions[tp] += len(chunk)
        epochs = {p: t.epoch for p, t in meter.tasks.items()}
        asyncio.run(meter.process(Delivery({tp[1]: chunk}, epochs)))
    clock[0] += 2  # the hold passes with every topic read to its end
    for partition in range(PARTITIONS):
        for topic in INPUTS:
            link.caught_up[(topic, partition)] = clock[0]
    asyncio.run(meter.process(Delivery({}, {p: t.epoch for p, t in meter.tasks.items()})))
    capture = Capture()
    for _, outputs, _ in link.log:
        capture.write(
            Batch(
                "x",
                tuple(
                    decode(o.topic, o.value)
                    for o in outputs
                    if o.value and decode(o.topic, o.value)
                ),
            )
        )
    return capture


def decode(topic: str, value: bytes) -> object:
    if topic == billing_session.TOPIC:
        return billing_session.decode(value)
    if topic == dead_letter.TOPIC:
        return dead_letter.decode(value)
    return None


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)
@given(steps, st.integers(min_value=0, max_value=2**32))
def test_replay_and_the_spine_agree_on_any_trace_through_crashes_and_sweeps(
    trace: list[tuple[int, str, int, int]], seed: int
) -> None:
    messages = build(trace)
    replayed, streamed = by_replay(messages), by_spine(messages, random.Random(seed))
    assert streamed.sessions == replayed.sessions
    assert streamed.letters == replayed.letters
