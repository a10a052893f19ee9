"""Foreign producers for the exactness tests: librdkafka (confluent-kafka) and the Java
client, keyed as the README tells a producer to be, with no ``billing-seq`` header."""

from __future__ import annotations

import base64
import os
import subprocess
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import orjson
from confluent_kafka import Producer

from pipeline.core.config import MeterConfig
from pipeline.core.counts import Tally
from pipeline.eventfile import FileMessage, parse_line, read_messages
from pipeline.replay import replay
from sinks.base import BatchingSink
from tests.integration.backends import bootstrap
from tests.integration.workers import NullBackend, cli

ROOT = Path(__file__).resolve().parents[2]
JAVA_PRODUCER = Path(__file__).parent / "java" / "Producer.java"
KAFKA_VERSION = os.environ.get("KAFKA_VERSION", "4.0.1")


def messages_of(trace: Path) -> list[FileMessage]:
    with trace.open("rb") as stream:
        return list(read_messages(stream))


def confluent_produce(
    messages: Iterable[FileMessage],
    prefix: str,
    *,
    partitioner: str | None = None,
    skew_ms: dict[str, int] | None = None,
    pace: float | None = None,
) -> float:
    """Send with confluent-kafka, each topic's messages from a producer of its own when
    ``skew_ms`` gives the topics clocks of their own (ms ahead of this one); returns the
    rate (messages/s). ``partitioner``: librdkafka's name, default its own default;
    ``pace``: at most that many messages a second."""
    config = {
        "bootstrap.servers": bootstrap(),
        "enable.idempotence": True,
        "linger.ms": 5,
    }
    if partitioner is not None:
        config["partitioner"] = partitioner
    producers: dict[str, Producer] = {}
    sent, started = 0, time.monotonic()
    for message in messages:
        group = message.topic if skew_ms is not None else ""
        producer = producers.get(group)
        if producer is None:
            producer = producers[group] = Producer(config)
        extra = {}
        if skew_ms is not None and message.topic in skew_ms:
            extra["timestamp"] = int(time.time() * 1000) + skew_ms[message.topic]
        _send(producer, prefix + message.topic, message, extra)
        sent += 1
        if pace is not None and sent % 100 == 0:
            time.sleep(max(0.0, started + sent / pace - time.monotonic()))
    for producer in producers.values():
        assert producer.flush(60) == 0, "messages not delivered"
    return sent / (time.monotonic() - started)


def _send(producer: Producer, topic: str, message: FileMessage, extra: dict[str, int]) -> None:
    while True:
        try:
            producer.produce(topic, message.value, message.key, **extra)
        except BufferError:  # the local queue is full: let it drain
            producer.poll(0.05)
            continue
        producer.poll(0)
        return


def kafka_libs() -> Path:
    """The broker's jars (``deploy/kafka/local.sh libs``): kafka-clients among them."""
    out = subprocess.run(
        [str(ROOT / "deploy" / "kafka" / "local.sh"), "libs"],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    libs = Path(out.stdout.strip().splitlines()[-1])
    assert (libs / f"kafka-clients-{KAFKA_VERSION}.jar").exists(), f"no kafka-clients in {libs}"
    return libs


def java_produce(messages: Iterable[FileMessage], prefix: str, workdir: Path) -> float:
    """Send with the Java client (the jar the broker runs with); returns its rate."""
    lines = workdir / "java-input.tsv"
    with lines.open("w") as out:
        for m in messages:
            key = base64.b64encode(m.key).decode() if m.key is not None else ""
            out.write(f"{m.topic}\t{key}\t{base64.b64encode(m.value).decode()}\n")
    done = subprocess.run(
        ["java", "-cp", f"{kafka_libs()}/*", str(JAVA_PRODUCER), bootstrap(), prefix, str(lines)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return float(done.stdout.split("(")[1].split()[0])


def export(prefix: str, dump: Path, cwd: Path, count: int | None = None) -> None:
    """Export the topics; with ``count``, until the dump holds that many records (a broker
    under load may show a high watermark behind what it acknowledged for a moment)."""
    deadline = time.monotonic() + 60
    while True:
        out = cli(
            "export", str(dump), "--topic-prefix", prefix, "--bootstrap", bootstrap(), cwd=cwd
        )
        assert out.returncode == 0, out.stderr
        exported = len(dump.read_bytes().splitlines())
        if count is None or exported == count:
            return
        assert exported < count and time.monotonic() < deadline, f"{exported} != {count}"
        time.sleep(1)


def dump_tally(dump: Path) -> Tally:
    """What replaying the dump counts (the totals the stream must reach)."""
    return replay(messages_of(dump), BatchingSink(NullBackend()), MeterConfig(), "file:dump")


def cross_topic_ties(dump: Path) -> int:
    """Records of the two conversation topics of one partition stamped in the same ms."""
    stamps: dict[str, Counter[tuple[int, int]]] = {
        "conversation-turns": Counter(),
        "agent-transfers": Counter(),
    }
    for line in dump.read_bytes().splitlines():
        record = orjson.loads(line)
        if record["topic"] in stamps:
            stamps[record["topic"]][(record["partition"], record["timestamp"])] += 1
    turns, transfers = stamps.values()
    return sum(min(count, transfers[at]) for at, count in turns.items() if at in transfers)


def lines_of(trace: Path) -> list[bytes]:
    return trace.read_bytes().splitlines(keepends=True)


def split_trace(trace: Path, share: float) -> tuple[list[FileMessage], list[bytes]]:
    """The first ``share`` of the trace as messages, the rest as event-file lines."""
    lines = lines_of(trace)
    cut = int(len(lines) * share)
    return [parse_line(line, n) for n, line in enumerate(lines[:cut], 1)], lines[cut:]
