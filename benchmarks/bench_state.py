"""Benchmark: what the meter's state writes and holds, beside the earlier design.

    PYTHONPATH=. python benchmarks/bench_state.py [--live 5000] [--events 80]
        [--rss 10000,100000,1000000] [--restore 1000000] [--restore-events 10,80]
        [--bootstrap 127.0.0.1:9092]

1. **Changelog bytes per accepted event** (no broker): ``--live`` conversations of
   ``--events`` turns, their events interleaved at random as live traffic is, through
   the core and a checkpoint every 800 events (0.2 s at 4,000 msgs/s). Key and value
   bytes of every changelog record, today's format against the earlier one (one record
   a changed conversation: its state and every id it saw, as JSON).
2. **RSS per live conversation** at each ``--rss`` count: a fresh process builds that
   many conversations of ``--events`` events (UUID-sized ids) as a restore leaves them,
   and reports its RSS growth divided by the count. The earlier design (a set of id
   strings) only up to 1e5 unless ``--old-rss-max`` says more: at 1e6 it needs ~17 GB.
3. **Restore seconds**: one partition of a fresh state topic on the broker holding
   ``--restore`` live conversations of ``--restore-events`` events as compaction leaves
   them (the latest record of each key), read and rebuilt as a newly assigned partition
   is (median of 3 reads); the earlier format at a tenth of the count, scaled (its
   records are up to 20 times larger).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import statistics
import subprocess
import sys
import time
import uuid
from array import array
from pathlib import Path

import msgspec

from agents import changelog
from pipeline.core.config import MeterConfig
from pipeline.core.conversation import ConversationState
from pipeline.core.meter import KEY_SEPARATOR, apply_event
from pipeline.core.state import PartitionState, event_digest
from schemas.conversation_turn import ConversationTurn

T0 = 1_764_158_400_000
CHECKPOINT_EVERY = 800
_LEGACY = msgspec.json.Encoder()


def event_id(conv: int, turn: int) -> str:
    return f"{conv:08x}-{turn:04x}-4b1c-9d2e-{conv * 1000 + turn:012x}"


def changelog_bytes(live: int, events: int, seed: int = 1) -> tuple[float, float, int]:
    """Bytes per accepted event written by today's changelog and by the earlier one."""
    rng = random.Random(seed)
    order = [c for c in range(live) for _ in range(events)]
    rng.shuffle(order)
    turns = dict.fromkeys(range(live), 0)
    part, ids = PartitionState(track_changes=True), {}
    new = old = accepted = 0
    cfg = MeterConfig()
    for n, conv in enumerate(order, 1):
        turn = turns[conv]
        turns[conv] += 1
        conversation = f"{conv:08x}-4b1c-9d2e-7f3a-{conv:012x}"
        event = ConversationTurn(
            event_id(conv, turn), "app-1", conversation, "web", "user", None, T0 + turn * 20_000
        )
        key = f"app-1{KEY_SEPARATOR}{conversation}"
        apply_event(part, event, T0 + 86_400_000, cfg)
        accepted += 1
        ids.setdefault(key, []).append(event.event_id)
        if n % CHECKPOINT_EVERY == 0 or n == len(order):
            # the earlier format rewrote each changed conversation whole, with its ids
            old += (
                sum(
                    1 + len(k.encode()) + len(_LEGACY.encode((part.conversations[k], ids[k])))
                    for k in part.persisted
                )
                + 12
            )  # and the same stream record
            new += sum(len(o.key or b"") + len(o.value or b"") for o in changelog.changes(part, 0))
    return new / accepted, old / accepted, accepted


RSS_CHILD = r"""
import gc, sys
from array import array
sys.path.insert(0, sys.argv[4])
from pipeline.core.conversation import ConversationState
from pipeline.core.state import PartitionState, event_digest
def rss():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * 4096
count, events, design = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
part = PartitionState()
gc.collect()
base = rss()
for i in range(count):
    conversation = f"{i:08x}-4b1c-9d2e-7f3a-{i:012x}"
    key = "app-%d\x1f%s" % (i % 7, conversation)
    part.conversations[key] = ConversationState(
        "app-%d" % (i % 7), conversation, "web", 0, 1764158400000 + i,
        1764158400000 + i + 600000, 500000, 600000, False, 1, 0, False, False, -1, frozenset())
    ids = [f"{i:08x}-{j:04x}-4b1c-9d2e-{i * 1000 + j:012x}" for j in range(events)]
    part.seen[key] = array("Q", map(event_digest, ids)) if design == "new" else set(ids)
gc.collect()
print((rss() - base) / count)
"""


def rss_per_conversation(count: int, events: int, design: str) -> float:
    root = str(Path(__file__).resolve().parents[1])
    out = subprocess.run(
        [sys.executable, "-c", RSS_CHILD, str(count), str(events), design, root],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip())


def state_records(count: int, events: int, design: str) -> list[tuple[bytes, bytes]]:
    """The records a compacted state topic holds for ``count`` live conversations: the
    first run through the core, the others its state under another conversation id with
    ids of their own (a million through the core would take a quarter of an hour)."""
    template = _template(events)
    part = PartitionState(track_changes=True)
    records: list[tuple[bytes, bytes]] = []
    for i in range(count):
        conversation = f"{i:08x}-4b1c-9d2e-7f3a-{i:012x}"
        key = f"app-1{KEY_SEPARATOR}{conversation}"
        state = msgspec.structs.replace(template, conversation_id=conversation)
        ids = [event_id(i, t) for t in range(events)]
        if design == "old":
            records.append((changelog.LEGACY + key.encode(), _LEGACY.encode((state, ids))))
            continue
        part.conversations[key] = state
        part.seen[key] = array("Q", map(event_digest, ids))
        part.persisted[key] = 0
        outputs = changelog.changes(part, 0)[1:]
        records += [(o.key or b"", o.value or b"") for o in outputs]
        part.conversations.clear()
        part.seen.clear()
    return records


def _template(events: int) -> ConversationState:
    part, cfg = PartitionState(), MeterConfig()
    for turn in range(events):
        event = ConversationTurn(
            event_id(0, turn), "app-1", "template", "web", "user", None, T0 + turn * 20_000
        )
        apply_event(part, event, T0 + 86_400_000, cfg)
    return part.conversations[f"app-1{KEY_SEPARATOR}template"]


async def restore_seconds(
    bootstrap: str, records: list[tuple[bytes, bytes]], runs: int = 3
) -> tuple[float, int]:
    """Produce ``records`` to partition 0 of a fresh topic, then time reading them back
    and rebuilding the state, as the meter does when a partition is assigned: the
    median of ``runs`` reads, and how many conversations each rebuilt."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic  # noqa: PLC0415

    topic = f"bench-state-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 1, 1, topic_configs={"cleanup.policy": "compact"})])
    try:
        await _produce(bootstrap, topic, records)
        # the records are on the broker now: drop them (the caller's list too) so the reads
        # are timed in a process that holds what a worker's would, not 5e6 extra tuples for
        # the garbage collector to walk
        records.clear()
        gc.collect()
        timings = [await _restore_once(bootstrap, topic) for _ in range(runs)]
    finally:
        await admin.delete_topics([topic])
        await admin.close()
    return statistics.median(t for t, _ in timings), timings[0][1]


async def _produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    from aiokafka import AIOKafkaProducer  # noqa: PLC0415

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=1 << 20)
    await producer.start()
    try:
        for start in range(0, len(records), 20_000):
            sends = [
                await producer.send(topic, value, key=key, partition=0)
                for key, value in records[start : start + 20_000]
            ]
            await asyncio.gather(*sends)
    finally:
        await producer.stop()


async def _restore_once(bootstrap: str, topic: str) -> tuple[float, int]:
    from aiokafka import AIOKafkaConsumer  # noqa: PLC0415

    from agents.kafka.meter_link import read_changelogs  # noqa: PLC0415

    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        isolation_level="read_committed",
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    try:
        started = time.monotonic()
        restorer = (await read_changelogs(consumer, topic, [0], changelog.Restorer))[0]
        if not isinstance(restorer, changelog.Restorer):
            raise TypeError(restorer)
        state = restorer.finish()
        return time.monotonic() - started, len(state.conversations)
    finally:
        await consumer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--live", type=int, default=5_000)
    parser.add_argument("--events", type=int, default=80)
    parser.add_argument("--rss", default="10000,100000,1000000")
    parser.add_argument("--old-rss-max", type=int, default=100_000)
    parser.add_argument("--restore", type=int, default=1_000_000)
    parser.add_argument(
        "--restore-events", default="10,80", help="events a conversation, e.g. 10,80"
    )
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    args = parser.parse_args()

    new, old, accepted = changelog_bytes(args.live, args.events)
    print(
        f"changelog bytes per accepted event ({args.live:,} live conversations x "
        f"{args.events} turns, {accepted:,} events, a checkpoint every {CHECKPOINT_EVERY}):"
    )
    print(f"  today {new:8.1f}   earlier {old:10.1f}   ratio {old / new:6.1f}x")

    print(f"RSS per live conversation of {args.events} events (bytes):")
    for count in (int(c) for c in args.rss.split(",")):
        today = rss_per_conversation(count, args.events, "new")
        earlier = (
            f"{rss_per_conversation(count, args.events, 'old'):10.0f}"
            if count <= args.old_rss_max
            else "   not run"
        )
        print(f"  {count:>9,}  today {today:8.0f}   earlier {earlier}")

    for events in (int(e) for e in args.restore_events.split(",")):
        restore_line(args.bootstrap, args.restore, events)


def restore_line(bootstrap: str, count: int, events: int) -> None:
    """Restore of ``count`` conversations of ``events`` events, today's and the earlier."""
    today, restored = asyncio.run(restore_seconds(bootstrap, state_records(count, events, "new")))
    tenth = max(count // 10, 1)
    earlier, _ = asyncio.run(restore_seconds(bootstrap, state_records(tenth, events, "old")))
    print(
        f"restore of one partition, {restored:,} conversations of {events} events: "
        f"today {today:5.1f} s, earlier {earlier * count / tenth:5.1f} s "
        f"(measured at {tenth:,}: {earlier:.2f} s; medians of 3 reads)"
    )


if __name__ == "__main__":
    main()
