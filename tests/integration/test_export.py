"""``export`` on the real broker: selection by record timestamp, stdout, and ``produce``
of a dump keeping each record's timestamp, ``billing-seq`` and partition."""

from __future__ import annotations

import uuid
from pathlib import Path

import orjson
import pytest

from pipeline.eventfile import dump_line
from pipeline.tracegen import TraceSpec, generate
from tests.factories import T0
from tests.integration.backends import bootstrap
from tests.integration.workers import cli

pytestmark = [pytest.mark.integration, pytest.mark.kafka]


def a_dump(path: Path, count: int) -> list[dict[str, object]]:
    """A dump of ``count`` records stamped a millisecond apart from T0, every third with
    a ``billing-seq``, in partitions of their own choosing."""
    lines = [orjson.loads(line) for line in generate(TraceSpec(events=count, seed=5))]
    out = []
    for i, line in enumerate(lines):
        value = line.get("raw", orjson.dumps(line.get("value")).decode())
        out.append(
            dump_line(
                str(line["topic"]),
                value.encode() if isinstance(value, str) else value,
                partition=i % 3,
                offset=0,
                timestamp=T0 + i,
                seq=i if i % 3 == 0 else 0,
                key=str(line.get("key", "k")).encode(),
                now_ms=T0,
            )
        )
    path.write_bytes(b"".join(out))
    return [orjson.loads(line) for line in out]


def comparable(record: dict[str, object]) -> tuple[object, ...]:
    """What survives a round trip through Kafka (offsets are the broker's)."""
    return tuple(record.get(k) for k in ("topic", "partition", "timestamp", "billing_seq", "key"))


def test_produce_of_a_dump_then_export_gives_the_same_records_and_selects_by_time(
    tmp_path: Path,
) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}."
    source = a_dump(tmp_path / "source.jsonl", 600)
    kafka = ("--topic-prefix", prefix, "--bootstrap", bootstrap())
    done = cli("produce", str(tmp_path / "source.jsonl"), *kafka, cwd=tmp_path)
    assert done.returncode == 0, done.stderr

    everything = cli("export", "-", *kafka, cwd=tmp_path)
    assert everything.returncode == 0, everything.stderr
    assert f"exported {len(source)} records" in everything.stderr
    exported = [orjson.loads(line) for line in everything.stdout.splitlines()]
    assert sorted(map(comparable, exported)) == sorted(map(comparable, source))
    by_stamp = {r["timestamp"]: r for r in exported}
    for record in source:  # each value or raw text as it was
        assert by_stamp[record["timestamp"]].get("value") == record.get("value")
        assert by_stamp[record["timestamp"]].get("raw") == record.get("raw")

    window = cli(
        "export",
        str(tmp_path / "window.jsonl"),
        "--from",
        "2025-11-26T12:00:00.100Z",
        "--to",
        "2025-11-26T12:00:00.200Z",
        *kafka,
        cwd=tmp_path,
    )
    assert window.returncode == 0, window.stderr
    assert window.stdout.strip() == f"exported 100 records to {tmp_path / 'window.jsonl'}"
    stamps = sorted(
        orjson.loads(line)["timestamp"]
        for line in (tmp_path / "window.jsonl").read_bytes().splitlines()
    )
    assert stamps == list(range(T0 + 100, T0 + 200))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "yesterday"), "--from: 'yesterday' is not an ISO date"),
        (("--from", "2026-01-02", "--to", "2026-01-01"), "--to must be after --from"),
        (("--topic-prefix", "no-such-prefix."), "no input topics with prefix"),
    ],
)
def test_a_bad_export_gets_one_line_and_exit_2(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    out = cli("export", "-", "--bootstrap", bootstrap(), *args, cwd=tmp_path)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and message in out.stderr, out.stderr
