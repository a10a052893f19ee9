"""The streaming workers against the real Kafka broker (deploy/kafka/local.sh start)."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from pipeline.core.counts import Tally
from tests.integration.backends import bootstrap, store_url
from tests.integration.workers import (
    WorkerProcess,
    cli,
    kafka_reachable,
    settled_report,
    store_query,
    totals,
    wait_for,
    write_trace,
)

pytestmark = [pytest.mark.integration, pytest.mark.kafka]


@pytest.fixture(scope="module", autouse=True)
def _kafka(kafka_backend: None) -> None:
    """The broker is up, and its group coordinator too (a fresh broker creates
    ``__consumer_offsets`` on the first group join, as no running cluster needs to)."""
    import asyncio

    from aiokafka import AIOKafkaConsumer
    from aiokafka.errors import KafkaError

    assert kafka_reachable(), f"no Kafka at {bootstrap()}: run deploy/kafka/local.sh start"

    async def warm_up() -> None:
        for _ in range(30):
            consumer = AIOKafkaConsumer(
                "__warm_up", bootstrap_servers=bootstrap(), group_id="billing-meter-warm-up"
            )
            try:
                await consumer.start()
                await consumer.getmany(timeout_ms=500)
                await consumer.commit()
            except KafkaError:
                await asyncio.sleep(1)
            else:
                return
            finally:
                await consumer.stop()

    asyncio.run(warm_up())


@pytest.fixture
def prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}."


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        worker.stop()


def offline_report(store: str, cwd: Path, trace: Path) -> list[dict[str, object]]:
    """Replay the same file into another database of the same store; its report."""
    assert cli("replay", str(trace), "--clickhouse", store, cwd=cwd).returncode == 0
    out = cli(
        "usage", "--clickhouse", store, "--by", "hour", "--range", "7d", "--format", "json", cwd=cwd
    )
    assert out.returncode == 0, out.stderr
    return list(orjson.loads(out.stdout))


def dead_letters(store: str, cwd: Path) -> list[tuple[str, str, str]]:
    sql = (
        "SELECT source_topic, reason_code, raw FROM {db}.dead_letters FINAL "
        "ORDER BY source_topic, reason_code, raw"
    )
    return [tuple(row) for row in store_query(store, sql, cwd)]


def test_produce_then_stream_equals_offline_replay(
    tmp_path: Path, prefix: str, workers: list[WorkerProcess]
) -> None:
    trace = tmp_path / "events.jsonl"
    expected = write_trace(trace, events=4_000, seed=11)
    store = store_url(tmp_path, prefix)
    # On a backlog: the file is produced first, then the worker starts (the next test
    # produces while the worker runs on brand-new topics).
    produced = cli(
        "produce", str(trace), "--topic-prefix", prefix, "--bootstrap", bootstrap(), cwd=tmp_path
    )
    assert produced.returncode == 0, produced.stderr
    worker = WorkerProcess(tmp_path, prefix, store=store).start()
    workers.append(worker)
    streamed = settled_report(worker, expected, 120)
    check_api(worker, tmp_path)
    check_metrics(worker, trace, expected)
    worker.stop()
    assert streamed == offline_report(store_url(tmp_path, prefix, "offline"), tmp_path, trace)
    assert dead_letters(store, tmp_path) == dead_letters(
        store_url(tmp_path, prefix, "offline"), tmp_path
    )
    assert len(dead_letters(store, tmp_path)) == expected.invalid


def test_produce_while_streaming_on_new_topics_equals_offline_replay(
    tmp_path: Path, prefix: str, workers: list[WorkerProcess]
) -> None:
    """The scenario of the stale-highwater race: the worker creates the topics and starts,
    then the file is produced while it runs. A held record may only be released by
    "idle" as of a fetch response that came at least the hold after it."""
    trace = tmp_path / "events.jsonl"
    expected = write_trace(trace, events=4_000, seed=14)
    store = store_url(tmp_path, prefix)
    worker = WorkerProcess(tmp_path, prefix, store=store).start()
    workers.append(worker)
    finish(produce_in_background(trace, prefix, tmp_path))
    streamed = settled_report(worker, expected, 120)
    worker.stop()
    assert streamed == offline_report(store_url(tmp_path, prefix, "offline"), tmp_path, trace)


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    from prometheus_client.parser import text_string_to_metric_families

    return {
        tuple(sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    }


def check_metrics(worker: WorkerProcess, trace: Path, expected: Tally) -> None:
    """Counters equal the file's counts; lag returns to 0."""
    from collections import Counter

    from pipeline.core.meter import decode_event
    from pipeline.eventfile import read_messages
    from schemas.fields import ValidationError

    reasons: Counter[str] = Counter()
    with trace.open("rb") as stream:
        for message in read_messages(stream):
            try:
                decode_event(message.topic, message.value, int(time.time() * 1000))
            except ValidationError as error:
                reasons[error.code] += 1
    want = {
        "accepted": expected.accepted,
        "duplicate": expected.duplicates,
        "invalid": expected.invalid,
    }

    def by_outcome() -> Counter[str]:
        counts: Counter[str] = Counter()
        for labels, value in samples(worker.text("/metrics"), "billing_events_total").items():
            counts[dict(labels)["outcome"]] += int(value)
        return counts

    # the last records (which open no session) may still wait out the merge's hold
    wait_for(lambda: by_outcome() == want, 30, lambda: f"{by_outcome()} != {want}")
    text = worker.text("/metrics")
    letters: Counter[str] = Counter()
    for labels, value in samples(text, "billing_dead_letters_total").items():
        letters[dict(labels)["reason"]] += int(value)
    assert letters == reasons
    opened = {
        dict(k)["kind"]: int(v) for k, v in samples(text, "billing_sessions_opened_total").items()
    }
    assert opened == expected.sessions
    rows = {dict(k)["table"]: int(v) for k, v in samples(text, "billing_sink_rows_total").items()}
    assert rows["sessions"] == sum(expected.sessions.values())
    wait_for(
        lambda: set(samples(worker.text("/metrics"), "billing_consumer_lag").values()) == {0.0},
        30,
        lambda: str(samples(worker.text("/metrics"), "billing_consumer_lag")),
    )


def check_api(worker: WorkerProcess, cwd: Path) -> None:
    """The HTTP API validates like the CLI, and ``usage --api`` prints what it serves."""
    for query, message in [
        ("?by=year", "not one of"),
        ("?range=7d&from=2026-01-01", "either"),
        ("?from=2026-01-01T10:30:00Z", "whole hours"),
        ("?bogus=1", "unknown"),
        ("?app=a&all_apps=1", "exclude"),
        ("?all_apps=yes", "all_apps"),
    ]:
        status, body = worker.status(f"/api/usage{query}")
        assert status == 400, query
        assert message in body["error"], (query, body)
    status, apps = worker.status("/api/apps")
    assert status == 200
    assert apps == sorted(apps)
    assert {"app-1", "app-2"} <= set(apps)
    via_cli = cli(
        "usage",
        "--api",
        f"http://127.0.0.1:{worker.port}",
        "--by",
        "day",
        "--range",
        "7d",
        "--all-apps",
        "--format",
        "json",
        cwd=cwd,
    )
    assert via_cli.returncode == 0, via_cli.stderr
    assert orjson.loads(via_cli.stdout) == worker.get("/api/usage?by=day&range=7d&all_apps=1")
    bad = cli("usage", "--api", f"http://127.0.0.1:{worker.port}", "--by", "year", cwd=cwd)
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1


def test_each_kind_of_invalid_input_is_dead_lettered_with_its_reason(
    tmp_path: Path, prefix: str, workers: list[WorkerProcess]
) -> None:
    import asyncio
    import time

    from aiokafka import AIOKafkaConsumer

    now = int(time.time() * 1000)
    turn = {
        "event_id": "v1",
        "app_id": "app-1",
        "conversation_id": "c-1",
        "channel": "web",
        "actor": "user",
        "occurred_at": now - 60_000,
    }
    invalid = {
        "invalid_json": b"not json at all",
        "not_an_object": b"[1, 2]",
        "missing_field": orjson.dumps({k: v for k, v in turn.items() if k != "channel"}),
        "null_field": orjson.dumps({**turn, "app_id": None}),
        "wrong_type": orjson.dumps({**turn, "occurred_at": 1.5}),
        "bad_enum": orjson.dumps({**turn, "actor": "robot"}),
        "bad_id": orjson.dumps({**turn, "conversation_id": ""}),
        "bad_timestamp": orjson.dumps({**turn, "occurred_at": "yesterday"}),
        "timestamp_too_old": orjson.dumps({**turn, "occurred_at": 12}),
        "timestamp_in_future": orjson.dumps({**turn, "occurred_at": now + 3 * 86_400_000}),
    }
    lines = [
        orjson.dumps({"topic": "conversation-turns", "key": "c-1", "raw": raw.decode()})
        for raw in invalid.values()
    ]
    lines.append(orjson.dumps({"topic": "conversation-turns", "value": turn}))
    trace = tmp_path / "bad.jsonl"
    trace.write_bytes(b"\n".join(lines) + b"\n")
    worker = WorkerProcess(tmp_path, prefix, store=store_url(tmp_path, prefix)).start()
    workers.append(worker)
    assert (
        cli(
            "produce",
            str(trace),
            "--topic-prefix",
            prefix,
            "--bootstrap",
            bootstrap(),
            cwd=tmp_path,
        ).returncode
        == 0
    )

    async def read_letters() -> list[dict[str, object]]:
        consumer = AIOKafkaConsumer(
            f"{prefix}billing-dead-letters",
            bootstrap_servers=bootstrap(),
            auto_offset_reset="earliest",
            group_id=f"{prefix}check",
        )
        await consumer.start()
        letters: list[dict[str, object]] = []
        try:
            deadline = time.monotonic() + 60
            while len(letters) < len(invalid) and time.monotonic() < deadline:
                for records in (await consumer.getmany(timeout_ms=1000)).values():
                    letters += [orjson.loads(r.value) for r in records]
        finally:
            await consumer.stop()
        return letters

    letters = asyncio.run(read_letters())
    assert sorted(str(letter["reason_code"]) for letter in letters) == sorted(invalid)
    for letter in letters:
        assert letter["source_topic"] == "conversation-turns"
        assert letter["source"] == "kafka"
        assert isinstance(letter["offset"], int)
        assert str(letter["reason"]).strip()
        raw = invalid[str(letter["reason_code"])]
        assert letter["raw"] == raw.decode()
    wait_for(lambda: totals(worker.get("/api/usage?range=24h")) == (1, 0, 0), 60, worker.tail)


def produce_in_background(trace: Path, prefix: str, cwd: Path) -> subprocess.Popen[str]:
    from tests.integration.workers import exe

    return subprocess.Popen(
        [exe(), "produce", str(trace), "--topic-prefix", prefix, "--bootstrap", bootstrap()],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(producer: subprocess.Popen[str]) -> None:
    _, err = producer.communicate(timeout=300)
    assert producer.returncode == 0, err


def test_sigkill_mid_stream_twice_leaves_exact_totals(
    tmp_path: Path, prefix: str, workers: list[WorkerProcess]
) -> None:
    import random

    rnd = random.Random(prefix)
    trace = tmp_path / "events.jsonl"
    expected = write_trace(trace, events=30_000, seed=12)
    store = store_url(tmp_path, prefix)
    worker = WorkerProcess(tmp_path, prefix, store=store).start()
    workers.append(worker)
    producer = produce_in_background(trace, prefix, tmp_path)
    for _ in range(2):  # SIGKILL at a random moment, then restart on the same store
        import time

        time.sleep(rnd.uniform(1.0, 4.0))
        worker.kill()
        worker = WorkerProcess(tmp_path, prefix, store=store).start()
        workers.append(worker)
    finish(producer)
    streamed = settled_report(worker, expected, 180)
    worker.stop()
    assert streamed == offline_report(store_url(tmp_path, prefix, "offline"), tmp_path, trace)
    assert dead_letters(store, tmp_path) == dead_letters(
        store_url(tmp_path, prefix, "offline"), tmp_path
    )


def committed_checkpoints(worker: WorkerProcess) -> float:
    text = worker.text("/metrics")
    return sum(
        value
        for labels, value in samples(text, "billing_checkpoints_total").items()
        if dict(labels).get("result") == "committed"
    )


@pytest.mark.parametrize("moment", ["before-first-commit", "after-commits"])
def test_rebalance_after_a_meter_worker_dies_leaves_exact_totals(
    tmp_path: Path, prefix: str, workers: list[WorkerProcess], moment: str
) -> None:
    """A meter is SIGKILLed before it ever committed, or once it has: its partitions move
    to the survivor, which restores them and resumes at the committed offsets."""
    trace = tmp_path / "events.jsonl"
    expected = write_trace(trace, events=30_000, seed=13)
    store = store_url(tmp_path, prefix)
    sink = WorkerProcess(tmp_path, prefix, roles="sink,web", store=store).start()
    meters = [WorkerProcess(tmp_path, prefix, roles="meter").start() for _ in range(2)]
    workers.extend([sink, *meters])
    wait_for(  # both meters in the group, partitions shared
        lambda: all((m.get("/api/health") or {}).get("assigned_partitions") for m in meters),
        60,
        meters[0].tail,
    )
    producer = produce_in_background(trace, prefix, tmp_path)
    if moment == "after-commits":
        wait_for(lambda: committed_checkpoints(meters[0]) >= 3, 60, meters[0].tail)
    else:
        assert committed_checkpoints(meters[0]) == 0
    meters[0].kill()
    finish(producer)
    streamed = settled_report(
        sink,
        expected,
        240,
        lambda: (
            f"survivor: {meters[1].get('/api/health')}\n{meters[1].tail(6000)}\n"
            f"sink: {sink.get('/api/health')}\n{sink.tail()}"
        ),
    )
    sink.stop()
    meters[1].stop()
    assert streamed == offline_report(store_url(tmp_path, prefix, "offline"), tmp_path, trace)


def test_replay_with_partitions_equals_the_stream_for_events_days_late(
    tmp_path: Path, prefix: str, workers: list[WorkerProcess]
) -> None:
    """Topics of 4 partitions; events days late and hours ahead: ``replay --partitions 4``
    keeps the stream's per-partition stream times, so it agrees event for event."""
    from pipeline.core.config import MeterConfig
    from pipeline.eventfile import parse_line
    from pipeline.replay import replay
    from pipeline.tracegen import TraceSpec, generate
    from sinks.base import BatchingSink
    from tests.integration.workers import NullBackend

    hour = 3_600_000
    end = int(time.time() * 1000) - hour
    spec = TraceSpec(events=6_000, seed=31, end_ms=end, span_ms=19 * hour, hostile_rate=0.05)
    lines = list(generate(spec))
    trace = tmp_path / "events.jsonl"
    trace.write_bytes(b"".join(lines))
    expected = replay(
        [parse_line(line, n) for n, line in enumerate(lines, 1)],
        BatchingSink(NullBackend()),
        MeterConfig(),
        "file:x",
        partitions=4,
    )
    assert expected.late > 0
    store = store_url(tmp_path, prefix)
    worker = WorkerProcess(tmp_path, prefix, store=store, env={"BILLING_PARTITIONS": "4"})
    workers.append(worker.start())
    produced = cli(
        "produce",
        str(trace),
        "--topic-prefix",
        prefix,
        "--partitions",
        "4",
        "--bootstrap",
        bootstrap(),
        cwd=tmp_path,
    )
    assert produced.returncode == 0, produced.stderr
    window = f"from={iso_hour(end - 20 * hour)}&to={iso_hour(end + 22 * hour)}"
    query = f"/api/usage?by=hour&{window}"
    want = (expected.sessions["usage"], expected.sessions["voice"], expected.sessions["alert"])
    wait_for(lambda: totals(worker.get(query)) == want, 120, worker.tail)
    streamed = worker.get(query)
    worker.stop()
    offline = store_url(tmp_path, prefix, "offline")
    assert (
        cli(
            "replay", str(trace), "--partitions", "4", "--clickhouse", offline, cwd=tmp_path
        ).returncode
        == 0
    )
    out = cli(
        "usage",
        "--clickhouse",
        offline,
        "--by",
        "hour",
        "--from",
        iso_hour(end - 20 * hour),
        "--to",
        iso_hour(end + 22 * hour),
        "--format",
        "json",
        cwd=tmp_path,
    )
    assert streamed == orjson.loads(out.stdout)
    assert dead_letters(store, tmp_path) == dead_letters(offline, tmp_path)


def iso_hour(ms: int) -> str:
    from schemas.fields import format_ms

    return format_ms(ms - ms % 3_600_000)[:13] + ":00:00Z"
