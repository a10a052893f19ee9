"""Chaos on the real broker: 3 meters and a sink SIGKILLed while a hostile trace streams in.

The trace mixes malformed events, events days late, events up to 20 h ahead and
duplicates re-sent long after their originals. Its first part is produced by a
foreign client (librdkafka, no ``billing-seq``), the rest by ``produce``. Whatever is
killed, the report must equal an offline replay of the ``export`` dump of the topics,
no session may be stored twice with two ``opened_at`` values, and every worker must
be up at the end.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

import orjson
import pytest

from pipeline.core.config import MeterConfig
from pipeline.core.counts import Tally
from pipeline.eventfile import parse_line
from pipeline.replay import replay
from pipeline.tracegen import TraceSpec, generate
from schemas.fields import format_ms
from sinks.base import BatchingSink
from tests.integration.backends import bootstrap, store_url
from tests.integration.foreign import confluent_produce, dump_tally, export, split_trace
from tests.integration.workers import (
    NullBackend,
    WorkerProcess,
    cli,
    exe,
    store_query,
    totals,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.kafka]
HOUR_MS = 3_600_000


def hostile_trace(path: Path, events: int, seed: int) -> tuple[Tally, int, int]:
    """Write the trace; its clean offline tally and the report window (ms) covering it."""
    end = int(time.time() * 1000) - HOUR_MS
    spec = TraceSpec(
        events=events,
        seed=seed,
        end_ms=end,
        span_ms=19 * HOUR_MS,
        garbage_rate=0.02,
        hostile_rate=0.04,
    )
    lines = list(generate(spec))
    path.write_bytes(b"".join(lines))
    messages = [parse_line(line, n) for n, line in enumerate(lines, 1)]
    tally = replay(messages, BatchingSink(NullBackend()), MeterConfig(), "file:x")
    start = (end - 20 * HOUR_MS) // HOUR_MS * HOUR_MS
    return tally, start, (end + 22 * HOUR_MS) // HOUR_MS * HOUR_MS


def window(start: int, end: int) -> str:
    return f"from={format_ms(start)[:13]}:00:00Z&to={format_ms(end)[:13]}:00:00Z"


def paced_produce(
    lines: list[bytes], prefix: str, cwd: Path, seconds: float
) -> subprocess.Popen[bytes]:
    """``billing-meter produce -`` fed the lines over ``seconds``, so kills land mid-stream."""
    trace = cwd / "rest.jsonl"
    trace.write_bytes(b"".join(lines))
    feeder = (
        "import sys, time\n"
        "lines = open(sys.argv[1], 'rb').readlines()\n"
        "chunk = max(1, len(lines) // int(float(sys.argv[2]) * 10))\n"
        "for i in range(0, len(lines), chunk):\n"
        "    sys.stdout.buffer.write(b''.join(lines[i:i + chunk])); sys.stdout.flush()\n"
        "    time.sleep(0.1)\n"
    )
    assert lines
    feed = subprocess.Popen(
        [sys.executable, "-c", feeder, str(trace), str(seconds)], stdout=subprocess.PIPE
    )
    producer = subprocess.Popen(
        [exe(), "produce", "-", "--topic-prefix", prefix, "--bootstrap", bootstrap()],
        cwd=cwd,
        stdin=feed.stdout,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert feed.stdout is not None
    feed.stdout.close()
    return producer


def stored_sessions(store: str, cwd: Path) -> list[tuple[str, int]]:
    """Every (session_id, opened_at) pair stored, without FINAL: duplicates would show."""
    sql = "SELECT DISTINCT session_id, toUnixTimestamp64Milli(opened_at) FROM {db}.sessions"
    return [(str(a), int(b)) for a, b in store_query(store, sql, cwd)]


def test_meters_and_sink_killed_while_a_hostile_trace_streams_give_the_replays_totals(
    tmp_path: Path,
) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}."
    rnd = random.Random(prefix)
    trace = tmp_path / "events.jsonl"
    clean, start, end = hostile_trace(trace, events=40_000, seed=21)
    assert clean.late > 0 and clean.invalid > 0
    store = store_url(tmp_path, prefix)
    sink = WorkerProcess(tmp_path, prefix, roles="sink,web", store=store).start()
    meters = [WorkerProcess(tmp_path, prefix, roles="meter").start() for _ in range(3)]
    everyone = [sink, *meters]
    first, rest = split_trace(trace, 0.3)
    try:
        confluent_produce(first, prefix, partitioner="murmur2_random")
        producer = paced_produce(rest, prefix, tmp_path, seconds=12)
        kills = ["meter"] * 5 + ["sink"]
        rnd.shuffle(kills)
        for victim in kills:
            time.sleep(rnd.uniform(1.0, 2.5))
            if victim == "sink":
                sink.kill()
                sink = WorkerProcess(tmp_path, prefix, roles="sink,web", store=store).start()
                everyone.append(sink)
            else:
                index = rnd.randrange(3)
                meters[index].kill()
                meters[index] = WorkerProcess(tmp_path, prefix, roles="meter").start()
                everyone.append(meters[index])
        _, err = producer.communicate(timeout=300)
        assert producer.returncode == 0, err
        dump = tmp_path / "dump.jsonl"
        export(prefix, dump, tmp_path, len(first) + len(rest))
        expected = dump_tally(dump)
        assert expected.events == clean.events and expected.invalid == clean.invalid
        query = f"/api/usage?by=hour&{window(start, end)}"
        want = (expected.sessions["usage"], expected.sessions["voice"], expected.sessions["alert"])
        wait_for(
            lambda: totals(sink.get(query)) == want,
            300,
            lambda: f"{totals(sink.get(query))} != {want}\n{sink.tail()}\n{meters[0].tail()}",
        )
        streamed = sink.get(query)
        assert all(w.proc is not None and w.proc.poll() is None for w in [sink, *meters])
    finally:
        for worker in everyone:
            worker.stop()
    pairs = stored_sessions(store, tmp_path)
    assert len(pairs) == len({session for session, _ in pairs}), "a session with two opened_at"
    offline = store_url(tmp_path, prefix, "offline")
    assert cli("replay", str(dump), "--clickhouse", offline, cwd=tmp_path).returncode == 0
    by_cli = cli(
        "usage",
        "--clickhouse",
        offline,
        "--by",
        "hour",
        "--from",
        window(start, end).split("&")[0][5:],
        "--to",
        window(start, end).split("&")[1][3:],
        "--format",
        "json",
        cwd=tmp_path,
    )
    assert by_cli.returncode == 0, by_cli.stderr
    assert streamed == orjson.loads(by_cli.stdout)
