"""Benchmark: the meter's state as a running worker holds and writes it (issue #25's method).

    PYTHONPATH=. python benchmarks/bench_worker_state.py [--live 5000] [--turns 80]
        [--rate 4000] [--baseline eecb888]

A ``--roles meter`` worker on the real broker, fresh topics, then ``--live`` conversations
of ``--turns`` turns each produced through ``billing-meter produce`` at about ``--rate``
messages a second, all conversations live at once (turn *k* of every conversation before
turn *k* + 1 of any, 20 s of event time apart). Once the worker has counted every event:

- **RSS per live conversation**: the growth of the worker's VmRSS from ready to done,
  divided by ``--live`` (everything the worker holds for them, all included);
- **changelog bytes per accepted event**: key and value bytes of every record the worker
  wrote to its state topic (read back, committed only), divided by the events.

``--baseline REV`` runs the same workload, in the same run, against a worker from the
git revision REV (a temporary worktree): ``eecb888`` is the design before issue #25.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import itertools
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import orjson

from agents.changelog import TOPIC as STATE_TOPIC
from tests.integration.backends import bootstrap
from tests.integration.workers import WorkerProcess, produce_paced, wait_for

ROOT = Path(__file__).resolve().parents[1]
GIT = shutil.which("git") or "git"
TURN_MS = 20_000


def workload(live: int, turns: int, first: int = 0) -> list[bytes]:
    """The event lines of conversations ``first`` to ``first + live``: every conversation's
    turn k, then every conversation's k + 1 (the same event times for every ``first``)."""
    start = (int(time.time() * 1000) // 3_600_000 - 1) * 3_600_000 - turns * TURN_MS
    lines = []
    for turn in range(turns):
        for conv in range(first, first + live):
            at = datetime.fromtimestamp((start + turn * TURN_MS + conv) / 1000, UTC)
            value = {
                "app_id": f"app-{conv % 7}",
                "conversation_id": f"{conv:08x}-4b1c-9d2e-7f3a-{conv:012x}",
                "channel": "web",
                "event_id": f"{conv:08x}-{turn:04x}-4b1c-9d2e-{conv * 1000 + turn:012x}",
                "actor": "user" if turn % 2 else "bot",
                "agent_id": None,
                "occurred_at": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            }
            lines.append(orjson.dumps({"topic": "conversation-turns", "value": value}) + b"\n")
    return lines


def rss_bytes(pid: int) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB", text, re.MULTILINE)
    assert match is not None
    return int(match.group(1)) * 1024


def counted(worker: WorkerProcess) -> int:
    """Events the worker's meter has applied (``billing_events_total``)."""
    total = 0.0
    for line in worker.text("/metrics").splitlines():
        if line.startswith("billing_events_total{"):
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


def _counted_at_least(worker: WorkerProcess, events: int) -> bool:
    return counted(worker) >= events


async def changelog_bytes(topic: str) -> int:
    from aiokafka import AIOKafkaConsumer, TopicPartition  # noqa: PLC0415

    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap(), enable_auto_commit=False, isolation_level="read_committed"
    )
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
        if not parts:
            await consumer._client.force_metadata_update()  # a fresh consumer knows no topic yet
            parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        total = 0
        while [tp for tp in parts if await consumer.position(tp) < ends[tp]]:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                total += sum(len(r.key or b"") + len(r.value or b"") for r in records)
        return total
    finally:
        await consumer.stop()


def measure(work: Path, args: argparse.Namespace, env: dict[str, str]) -> str:
    """Phase 1 as the issue measured it (growth from ready over ``--live``), then each
    further phase's growth over its own ``--live`` new conversations (the slope, once the
    worker's buffers are warm)."""
    prefix = f"bws{uuid.uuid4().hex[:8]}."
    worker = WorkerProcess(work, prefix, roles="meter", env=env).start()
    rss, events = [], 0
    try:
        assert worker.proc is not None
        time.sleep(2)
        rss.append(rss_bytes(worker.proc.pid))
        for phase in range(args.phases):
            lines = workload(args.live, args.turns, phase * args.live)
            produce_paced(lines, prefix, args.rate, work)
            events += len(lines)
            wait_for(functools.partial(_counted_at_least, worker, events), 600, worker.tail)
            time.sleep(3)  # the last checkpoint's transaction
            rss.append(rss_bytes(worker.proc.pid))
    finally:
        worker.stop()
    written = asyncio.run(changelog_bytes(prefix + STATE_TOPIC))
    growth = [(b - a) / args.live / 1024 for a, b in itertools.pairwise(rss)]
    later = ", ".join(f"{g:.1f}" for g in growth[1:])
    return (
        f"RSS growth {growth[0]:5.1f} KiB a live conversation "
        f"({rss[0] / 2**20:.0f} -> {rss[1] / 2**20:.0f} MiB), then {later} KiB a conversation "
        f"in each further {args.live:,}; changelog {written / events:6.1f} B an accepted event "
        f"({written / 2**20:.1f} MiB)"
    )


def baseline_env(rev: str, tmp: Path) -> dict[str, str]:
    tree = tmp / f"baseline-{rev}"
    subprocess.run(
        [GIT, "-C", str(ROOT), "worktree", "add", "--detach", str(tree), rev],
        check=True,
        capture_output=True,
    )
    return {"PYTHONPATH": str(tree)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--live", type=int, default=5_000)
    parser.add_argument("--turns", type=int, default=80)
    parser.add_argument("--rate", type=int, default=4_000)
    parser.add_argument("--phases", type=int, default=2, help="rounds of --live conversations")
    parser.add_argument("--baseline", default="eecb888", help="git revision, or '' for none")
    args = parser.parse_args()
    print(
        f"a --roles meter worker, {args.phases} x {args.live:,} live conversations x "
        f"{args.turns} turns at {args.rate:,} events/s:"
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print(f"  today:    {measure(work, args, {'PYTHONPATH': str(ROOT)})}", flush=True)
        if args.baseline:
            env = baseline_env(args.baseline, work)
            try:
                print(f"  {args.baseline}:  {measure(work, args, env)}", flush=True)
            finally:
                subprocess.run(
                    [GIT, "-C", str(ROOT), "worktree", "remove", "--force", env["PYTHONPATH"]],
                    check=False,
                )


if __name__ == "__main__":
    main()
