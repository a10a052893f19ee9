"""End to end through one worker on the real broker (issue #10: throughput and latency).

1. Generates N events (short conversations, so that about 100k are live at once at 1M
   events) and produces them to fresh topics (a prefix per run).
2. Baselines, same run, same data: a plain aiokafka consumer that only reads and
   ``orjson.loads`` every message of the input topics (the floor for any Python consumer),
   a Faust agent that only iterates and acks them (``faust_floor.py``: the most any
   per-message Faust agent does here), and ``billing-meter replay`` of the same file.
3. Throughput: starts ``billing-meter worker`` (all roles, embedded ClickHouse) on the
   backlog and times it until ClickHouse holds every session of one clean offline pass;
   its peak RSS (VmHWM) is read before it stops.
4. Latency: a fresh worker, a second trace produced at ``--rate`` messages/s, and the
   event-to-ClickHouse percentiles from ``/api/health`` (input CreateTime to rows
   committed, measured by the sink over the sessions of this phase).

    python benchmarks/bench_stream.py [--events 1000000] [--rate 5000] [--repeats 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import NamedTuple

import orjson
from aiokafka import AIOKafkaConsumer

from agents.settings import INPUT_TOPICS
from pipeline.core.config import MeterConfig
from pipeline.eventfile import parse_line
from pipeline.replay import replay
from pipeline.tracegen import TraceSpec, generate
from sinks.base import BatchingSink
from tests.integration.backends import bootstrap
from tests.integration.workers import (
    NullBackend,
    WorkerProcess,
    cli,
    produce_paced,
    totals,
    wait_for,
)


async def baseline(prefix: str, count: int) -> float:
    consumer = AIOKafkaConsumer(
        *(prefix + t for t in INPUT_TOPICS),
        bootstrap_servers=bootstrap(),
        auto_offset_reset="earliest",
        group_id=f"{prefix}baseline",
        max_partition_fetch_bytes=4 << 20,
    )
    await consumer.start()
    seen = 0
    started = 0.0
    try:
        while seen < count:
            for records in (await consumer.getmany(timeout_ms=1000, max_records=10_000)).values():
                started = started or time.perf_counter()
                for record in records:
                    try:
                        orjson.loads(record.value)
                    except orjson.JSONDecodeError:
                        pass
                seen += len(records)
    finally:
        await consumer.stop()
    return seen / (time.perf_counter() - started)


def faust_floor(prefix: str, count: int, cwd: Path) -> float:
    """Rate of a Faust agent that only iterates the same records (a child process)."""
    script = Path(__file__).with_name("faust_floor.py")
    env = {**os.environ, "FLOOR_PREFIX": prefix, "FLOOR_COUNT": str(count)}
    env["KAFKA_BOOTSTRAP"] = bootstrap()
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    out = subprocess.run(
        [sys.executable, str(script), "worker", "-l", "warn", "--without-web"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    found = re.search(r"faust-floor (\d+) ([\d.]+)", out.stdout + out.stderr)  # Faust logs prints
    assert found is not None, out.stdout[-2000:] + out.stderr[-2000:]
    return int(found[1]) / float(found[2])


def produce(path: Path, prefix: str, cwd: Path) -> int:
    out = cli("produce", str(path), "--topic-prefix", prefix, "--bootstrap", bootstrap(), cwd=cwd)
    assert out.returncode == 0, out.stderr
    return int(out.stdout.split()[1])


class Run(NamedTuple):
    base: float
    floor: float
    replay: float
    worker: float
    rss_mib: float
    count: int
    conversations: int


def trace_spec(events: int, seed: int) -> TraceSpec:
    end = int(time.time() * 1000) - 3_600_000
    return TraceSpec(events=events, seed=seed, end_ms=end, max_events_per_conversation=18)


def offline_replay(trace: Path, work: Path, count: int) -> float:
    started = time.perf_counter()
    out = cli(
        "replay", str(trace), "--clickhouse", f"chdb://{work / 'replay'}/{trace.stem}", cwd=work
    )
    assert out.returncode == 0, out.stderr
    return count / (time.perf_counter() - started)


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def throughput(work: Path, events: int) -> Run:
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    trace = work / f"{prefix}jsonl"
    spec = trace_spec(events, 5)
    lines = list(generate(spec))
    trace.write_bytes(b"".join(lines))
    expected = replay(
        [parse_line(line, n) for n, line in enumerate(lines, 1)],
        BatchingSink(NullBackend()),
        MeterConfig(),
        "file:bench",
    )
    conversations = len(
        {
            orjson.loads(line).get("value", {}).get("conversation_id")
            for line in lines
            if b"conversation_id" in line
        }
    )
    count = produce(trace, prefix, work)
    base = asyncio.run(baseline(prefix, count))
    floor = faust_floor(prefix, count, work)
    replay_rate = offline_replay(trace, work, count)
    worker = WorkerProcess(work, prefix, store=f"chdb://{work / prefix}").start()
    started = time.perf_counter()
    want = (expected.sessions["usage"], expected.sessions["voice"], expected.sessions["alert"])
    try:
        wait_for(
            lambda: totals(worker.get("/api/usage?by=day&range=7d&all_apps=1")) == want,
            3600,
            worker.tail,
        )
        rate = count / (time.perf_counter() - started)
        assert worker.proc is not None
        rss = peak_rss_mib(worker.proc.pid)
    finally:
        worker.stop()
    return Run(base, floor, replay_rate, rate, rss, count, conversations)


def latency(work: Path, rate: int, seconds: int) -> dict[str, object]:
    prefix = f"lat{uuid.uuid4().hex[:8]}."
    worker = WorkerProcess(work, prefix, store=f"chdb://{work / prefix}").start()
    try:
        trace = work / f"{prefix}jsonl"
        trace.write_bytes(b"".join(generate(trace_spec(rate * seconds, 6))))
        lines = trace.read_bytes().splitlines(keepends=True)
        produce_paced(lines, prefix, rate, work)
        time.sleep(5)
        return dict(worker.get("/api/health")["sink"])
    finally:
        worker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--rate", type=int, default=5_000, help="messages/s in the latency phase")
    parser.add_argument("--seconds", type=int, default=30, help="length of the latency phase")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        runs = [throughput(work, args.events) for _ in range(args.repeats)]

        def median(field: str) -> float:
            return statistics.median(getattr(r, field) for r in runs)

        base, floor, replayed = median("base"), median("floor"), median("replay")
        worker, rss = median("worker"), median("rss_mib")
        print(
            f"messages per run: {runs[0].count}, conversations: {runs[0].conversations} "
            f"(median of {args.repeats} run(s))"
        )
        print(f"baseline: plain aiokafka consumer + orjson.loads: {base:>10,.0f} msgs/s")
        print(
            f"Faust floor: an agent that only iterates + acks: {floor:>10,.0f} msgs/s  "
            f"ratio {floor / base:.3f}"
        )
        print(f"offline replay of the same file into chdb:      {replayed:>10,.0f} msgs/s")
        print(
            f"one worker (meter+sink+web) into chdb:           {worker:>10,.0f} msgs/s  "
            f"{worker / floor:.2f}x the Faust floor, {worker / replayed:.2f}x replay "
            f"(targets: >= 10,000 msgs/s, >= 1.5x, >= 0.25x)"
        )
        print(f"worker peak RSS while draining: {rss:,.0f} MiB (target <= 1,024)")
        lat = latency(work, args.rate, args.seconds)
        print(
            f"latency at {args.rate} msgs/s for {args.seconds}s: p50 "
            f"{lat['event_to_sink_p50_s']}s  p99 {lat['event_to_sink_p99_s']}s "
            f"({lat['latency_samples']} sessions; target p99 <= 2 s)"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
