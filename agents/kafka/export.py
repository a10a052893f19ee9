"""``billing-meter export``: the input topics as they are in Kafka, for an audit.

Every partition of the three input topics is read ``read_committed`` (what the
meter reads) from the first offset whose record timestamp is at or after
``--from`` (``offsets_for_times``; else the log start) up to the first at or after
``--to`` (else the last stable offset when the export starts), each record with its
partition, offset, timestamp and ``billing-seq`` header. The selection is by
offsets: a record stamped out of order inside the range stays in, as the meter saw
it. Replaying the dump merges it as the meter did (SPEC 2b).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaConnectionError

from agents.kafka.admin import KafkaUnavailableError, partitions_of
from agents.kafka.client import to_record
from agents.kafka.records import Record, Topics


@dataclass(frozen=True, slots=True)
class ExportRange:
    """What to export: the topics' prefix, and record timestamps (epoch ms) or None."""

    bootstrap: str
    inputs: tuple[str, ...]  # the input topics' base names
    topic_prefix: str = ""
    from_ms: int | None = None
    to_ms: int | None = None


async def export_records(
    what: ExportRange,
    write: Callable[[Record], object],
    on_progress: Callable[[int, int], None] | None = None,
) -> int:
    """Hand every selected record to ``write``, each partition in offset order; returns
    how many. ``on_progress(done, total)`` follows the reading."""
    topics = Topics(what.topic_prefix)
    names = [topics.full(base) for base in what.inputs]
    partitions = await partitions_of(what.bootstrap, names)
    if not partitions:
        raise KafkaUnavailableError(
            f"no input topics with prefix {what.topic_prefix!r} at {what.bootstrap}"
        )
    tps = [TopicPartition(name, p) for name in names for p in partitions.get(name, ())]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=what.bootstrap,
        enable_auto_commit=False,
        isolation_level="read_committed",
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    try:
        await consumer.start()
    except KafkaConnectionError as exc:
        await consumer.stop()
        raise KafkaUnavailableError(f"cannot reach Kafka at {what.bootstrap}: {exc}") from None
    try:
        bounds = await _bounds(consumer, tps, what)
        return await _read(consumer, topics, bounds, write, on_progress)
    finally:
        await consumer.stop()


async def _bounds(
    consumer: AIOKafkaConsumer, tps: list[TopicPartition], what: ExportRange
) -> dict[TopicPartition, tuple[int, int]]:
    """Per partition: the first offset to export and the offset to stop before."""
    stable = await consumer.end_offsets(tps)  # read_committed: the last stable offsets
    first = await consumer.beginning_offsets(tps)
    starts = await _at(consumer, tps, what.from_ms, first, stable)
    stops = await _at(consumer, tps, what.to_ms, stable, stable)
    return {tp: (starts[tp], min(stops[tp], stable[tp])) for tp in tps}


async def _at(
    consumer: AIOKafkaConsumer,
    tps: list[TopicPartition],
    at_ms: int | None,
    default: dict[TopicPartition, int],
    ends: dict[TopicPartition, int],
) -> dict[TopicPartition, int]:
    """The first offset stamped at or after ``at_ms``, per partition: ``default`` without
    a time, the end (``ends``) when nothing is stamped that late."""
    if at_ms is None:
        return dict(default)
    found = await consumer.offsets_for_times(dict.fromkeys(tps, at_ms))
    return {tp: ends[tp] if found[tp] is None else found[tp].offset for tp in tps}


async def _read(
    consumer: AIOKafkaConsumer,
    topics: Topics,
    bounds: dict[TopicPartition, tuple[int, int]],
    write: Callable[[Record], object],
    on_progress: Callable[[int, int], None] | None,
) -> int:
    left = {tp: (start, stop) for tp, (start, stop) in bounds.items() if start < stop}
    total = sum(stop - start for start, stop in left.values())
    consumer.assign(list(left))
    for tp, (start, _) in left.items():
        consumer.seek(tp, start)
    done, shown = 0, time.monotonic()
    while left:
        batch = await consumer.getmany(*left, timeout_ms=1000, max_records=20_000)
        for tp, messages in batch.items():
            stop = left[tp][1] if tp in left else -1
            for message in messages:
                if message.offset < stop:
                    write(to_record(topics, message))
                    done += 1
        for tp in list(left):  # positions step over transaction markers too
            if await consumer.position(tp) >= left[tp][1]:
                consumer.pause(tp)
                del left[tp]
        if on_progress is not None and time.monotonic() - shown >= 0.2:
            on_progress(done, total)
            shown = time.monotonic()
    return done
