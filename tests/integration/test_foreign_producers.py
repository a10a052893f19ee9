"""Exact with any producer (SPEC 2b): standard Kafka clients on the real broker.

The platform's services produce with their own clients: no ``billing-seq`` header,
their own partitioner, records stamped by the client, so records of the two
conversation topics often share a millisecond. In each test the stream's report
equals ``replay`` of the ``export`` dump of the same topics (the audit path), and on a
trace without out-of-order events it also equals replay of the source file.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from pipeline.core.partitioning import PARTITIONERS, Partitioner
from pipeline.eventfile import FileMessage
from pipeline.tracegen import TraceSpec, generate
from tests.integration.backends import store_url
from tests.integration.foreign import (
    confluent_produce,
    cross_topic_ties,
    dump_tally,
    export,
    java_produce,
    messages_of,
)
from tests.integration.workers import WorkerProcess, cli, settled_report, store_query

pytestmark = [pytest.mark.integration, pytest.mark.kafka]
MIN_RATE = 5_000  # msgs/s: fast enough that CreateTime ties happen


def in_order_trace(path: Path, events: int, seed: int) -> Path:
    """A trace ending an hour ago with duplicates and garbage but no out-of-order
    events, so that the order by event time is the file's order."""
    end = int(time.time() * 1000) - 3_600_000
    spec = TraceSpec(events=events, seed=seed, end_ms=end, disorder_rate=0.0)
    path.write_bytes(b"".join(generate(spec)))
    return path


def offline_report(source: Path, cwd: Path, *options: str) -> list[dict[str, object]]:
    """``replay`` of a file into a store of its own, then its hourly report."""
    store = store_url(cwd, "offline.", f"offline_{uuid.uuid4().hex[:8]}")
    done = cli("replay", str(source), "--clickhouse", store, *options, cwd=cwd)
    assert done.returncode == 0, done.stderr
    out = cli(
        "usage", "--clickhouse", store, "--by", "hour", "--range", "7d", "--format", "json", cwd=cwd
    )
    assert out.returncode == 0, out.stderr
    return list(orjson.loads(out.stdout))


def partitions_follow(dump: Path, partitioner: Partitioner) -> bool:
    """Every keyed record of the dump is where ``partitioner`` puts its key (6 partitions):
    replay's copy of the client's partitioner is the client's."""
    records = [orjson.loads(line) for line in dump.read_bytes().splitlines()]
    keyed = [r for r in records if "key" in r]
    assert len(keyed) > 1000
    return all(partitioner(r["key"].encode(), 6) == r["partition"] for r in keyed)


def dead_letters(store: str, cwd: Path) -> list[tuple[str, str, str]]:
    sql = "SELECT source_topic, reason_code, raw FROM {db}.dead_letters FINAL ORDER BY ALL"
    return [tuple(row) for row in store_query(store, sql, cwd)]


def stream_and_audit(tmp_path: Path, prefix: str, worker: WorkerProcess, sent: int) -> Path:
    """Export the ``sent`` records, wait for the stream to reach the dump's totals, and
    check the stream's report against replay of the dump; the dump."""
    dump = tmp_path / "dump.jsonl"
    export(prefix, dump, tmp_path, sent)
    assert cross_topic_ties(dump) > 0, "no two records of the two topics shared a millisecond"
    streamed = settled_report(worker, dump_tally(dump), 180)
    worker.stop()
    assert streamed == offline_report(dump, tmp_path)
    return dump


def streamed(
    tmp_path: Path, prefix: str, trace: Path, produce: Callable[[list[FileMessage]], float]
) -> Path:
    """A worker on fresh topics, the trace sent by ``produce`` (at ``MIN_RATE`` or more),
    then :func:`stream_and_audit`; the dump."""
    worker = WorkerProcess(tmp_path, prefix, store=store_url(tmp_path, prefix)).start()
    try:
        messages = messages_of(trace)
        assert produce(messages) >= MIN_RATE
        return stream_and_audit(tmp_path, prefix, worker, len(messages))
    finally:
        worker.stop()


@pytest.mark.parametrize(
    ("partitioner", "replay_as"),
    [(None, "crc32"), ("murmur2_random", "murmur2")],
    ids=["librdkafka-default", "murmur2_random"],
)
def test_confluent_kafka_bills_what_replay_of_its_dump_and_of_the_file_bill(
    tmp_path: Path, partitioner: str | None, replay_as: str
) -> None:
    prefix, trace = f"t{uuid.uuid4().hex[:10]}.", tmp_path / "events.jsonl"
    in_order_trace(trace, events=20_000, seed=31)
    dump = streamed(
        tmp_path, prefix, trace, lambda m: confluent_produce(m, prefix, partitioner=partitioner)
    )
    assert partitions_follow(dump, PARTITIONERS[replay_as])
    by_file = offline_report(trace, tmp_path, "--partitioner", replay_as)
    assert by_file == offline_report(dump, tmp_path)
    assert dead_letters(store_url(tmp_path, prefix), tmp_path)  # garbage was dead-lettered


def test_the_java_client_bills_what_replay_of_its_dump_and_of_the_file_bill(
    tmp_path: Path,
) -> None:
    prefix, trace = f"t{uuid.uuid4().hex[:10]}.", tmp_path / "events.jsonl"
    in_order_trace(trace, events=20_000, seed=32)
    dump = streamed(tmp_path, prefix, trace, lambda m: java_produce(m, prefix, tmp_path))
    assert offline_report(trace, tmp_path) == offline_report(dump, tmp_path)


def test_two_producers_a_second_apart_bill_what_replay_of_the_dump_bills(
    tmp_path: Path,
) -> None:
    """Turns and transfers from two services whose clocks are 1 s apart (turns ahead),
    sent within MAX_HOLD of each other: the stream holds each turn until the transfers
    stamped before it have come, as replay of the dump orders them."""
    prefix, trace = f"t{uuid.uuid4().hex[:10]}.", tmp_path / "events.jsonl"
    in_order_trace(trace, events=20_000, seed=33)
    skew = {"conversation-turns": 1_000, "agent-transfers": 0, "alert-deliveries": 0}
    # over about 3.5 s, so that a turn and a transfer sent 1 s later share a stamp
    dump = streamed(
        tmp_path, prefix, trace, lambda m: confluent_produce(m, prefix, skew_ms=skew, pace=6_000)
    )
    store = store_url(tmp_path, prefix)
    replayed = store_url(tmp_path, prefix, "dump")
    assert cli("replay", str(dump), "--clickhouse", replayed, cwd=tmp_path).returncode == 0
    assert dead_letters(store, tmp_path) == dead_letters(replayed, tmp_path)
