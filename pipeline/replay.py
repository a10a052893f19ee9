"""Offline replay: an event file through the same spine, steps and sink as the workers.

A composition of :func:`pipeline.spine.drive`: a file source (:class:`FileSource`), the
meter's decode, merge and apply/dead-letter steps (:mod:`pipeline.partition`) and a
sink, with nothing to commit (a file has no consumer offsets).

Replay is partition-aware (SPEC section 2a): each line goes to the partition its
key would go to (``--partitioner``: the Java client's murmur2 or librdkafka's CRC32),
or to the ``partition`` a dump of the topics gives it, and each partition keeps its own
state and stream times, exactly as a worker that owns the partition does.

A file without record timestamps is in processing order. A dump (every line with a
``timestamp``) is merged as the meter merges the topics (SPEC 2b,
:class:`~pipeline.partition.StreamMerge`), so it replays to what the stream computed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

from pipeline.core.config import MeterConfig
from pipeline.core.conversation import summarize
from pipeline.core.counts import Counts, Tally
from pipeline.core.ordering import RANK
from pipeline.core.partitioning import Partitioner, partition_for
from pipeline.core.state import PartitionState
from pipeline.eventfile import EventFileError, FileMessage
from pipeline.partition import Admitted, Applier, Emitted, StreamMerge, decode
from pipeline.spine import Batch, Message, Offsets, drive
from sinks.base import BatchingSink

DEFAULT_PARTITIONS = 6
SWEEP_EVERY = 100_000  # events between two sweeps (freeing never changes an outcome)
BATCH = 256  # lines per fetch: small enough to stay in cache (measured: 4,096 was slower)
PROGRESS_EVERY = 10_000


class FileBatch(NamedTuple):
    """Lines of a file by the partition they go to, and whether the file is a dump."""

    partitions: dict[int, list[Message]]
    dump: bool


class FileSource:
    """The spine's source over an event file; sets ``exhausted`` at its end."""

    def __init__(
        self,
        messages: Iterable[FileMessage],
        partitions: int,
        partitioner: Partitioner,
        on_progress: Callable[[int], None] | None = None,
    ) -> None:
        self._messages: Iterator[FileMessage] = iter(messages)
        self.partitions, self.partitioner = partitions, partitioner
        self.on_progress = on_progress
        self.read = 0
        self.dump: bool | None = None  # decided by the first line: does it carry a timestamp?
        self.exhausted = asyncio.Event()

    async def fetch(self, timeout_s: float) -> Batch[FileBatch] | None:  # noqa: ARG002
        """The next lines, grouped by partition in file order (no offsets to commit; a
        file never makes the reader wait, so ``timeout_s`` does not apply)."""
        grouped: dict[int, list[Message]] = {}
        for message in self._messages:
            self._check_kind(message)
            grouped.setdefault(self._partition(message), []).append(as_message(message))
            self.read += 1
            if self.on_progress is not None and self.read % PROGRESS_EVERY == 0:
                self.on_progress(self.read)
            if self.read % BATCH == 0:
                break
        else:
            self.exhausted.set()
        return Batch(FileBatch(grouped, bool(self.dump)), {}) if grouped else None

    def _check_kind(self, message: FileMessage) -> None:
        stamped = message.timestamp is not None
        if self.dump is None:
            self.dump = stamped
        elif stamped != self.dump:
            raise EventFileError(
                f"line {message.line}: a file's lines all carry a 'timestamp' (a dump of "
                "the topics) or none do (processing order)"
            )

    def _partition(self, message: FileMessage) -> int:
        if message.partition is not None:
            return message.partition
        return self.partitioner(message.key or b"", self.partitions)


def as_message(line: FileMessage) -> Message:
    """A line as the spine's message: a dead letter names the dump's partition (-1 for
    a file without one) and offset (else the line number)."""
    return Message(
        line.topic,
        -1 if line.partition is None else line.partition,
        line.line if line.offset is None else line.offset,
        line.timestamp or 0,
        line.key,
        line.value,
        line.seq or 0,
    )


class ReplayStep:
    """Decode, merge (a dump), apply and dead-letter per partition; emit to the sink."""

    def __init__(self, cfg: MeterConfig, sink: BatchingSink, source: str, now_ms: int) -> None:
        self.applier = Applier(cfg, source)
        self.sink, self.now_ms = sink, now_ms
        self.counts = Counts()
        self.states: dict[int, PartitionState] = {}
        self.merges: dict[int, StreamMerge] = {}
        self.since_sweep = 0

    async def submit(self, batch: Batch[FileBatch]) -> None:
        """Apply each partition's lines: at once (file order), or once merged (a dump)."""
        for partition, messages in batch.payload.partitions.items():
            admitted = [decode(message, self.now_ms) for message in messages]
            if batch.payload.dump:
                admitted = self._merge(partition, admitted)
            self._apply(partition, admitted)
        self.since_sweep += sum(map(len, batch.payload.partitions.values()))
        self.commit(batch.offsets)

    def _merge(self, partition: int, admitted: list[Admitted]) -> list[Admitted]:
        merge = self.merges.get(partition)
        if merge is None:
            merge = self.merges[partition] = StreamMerge()
        released = []
        for record in admitted:
            if record.record.topic in RANK:
                merge.add(record)
                released += merge.release({}, 0.0)  # mid-file no topic is idle
            else:
                released.append(record)  # alerts need no merge
        return released

    def _apply(self, partition: int, admitted: list[Admitted]) -> None:
        state = self.states.get(partition)
        if state is None:
            state = self.states[partition] = PartitionState()
        self._emit(self.applier.apply(state, admitted, self.now_ms, self.counts))

    def _emit(self, emitted: list[Emitted]) -> None:
        add = self.sink.add
        for item in emitted:
            add(item.item)

    def commit(self, offsets: Offsets) -> None:
        """Nothing to acknowledge: a file is read once."""

    async def poll(self) -> None:
        """Sweep every ``SWEEP_EVERY`` events (freeing never changes an outcome)."""
        if self.since_sweep >= SWEEP_EVERY:
            self.since_sweep = 0
            self.sweep()

    def sweep(self) -> None:
        """Free forgotten state and report idle segments, in every partition."""
        for state in self.states.values():
            self._emit(self.applier.sweep(state, self.counts))

    async def join(self) -> None:
        """End of input: release what the merges hold, report every segment still open
        (as idle) and flush the sink."""
        for partition, merge in sorted(self.merges.items()):
            self._apply(partition, merge.drain())
        self.sweep()
        for state in self.states.values():
            for conversation in state.conversations.values():
                if not conversation.reported and not conversation.ended:
                    self.sink.add(summarize(conversation, "idle"))
        self.sink.flush()


def replay(
    messages: Iterable[FileMessage],
    sink: BatchingSink,
    cfg: MeterConfig,
    source: str,
    *,
    partitions: int = DEFAULT_PARTITIONS,
    partitioner: Partitioner = partition_for,
    now_ms: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> Tally:
    """Replay ``messages`` into ``sink``; returns the counts."""
    clock_ms = int(time.time() * 1000) if now_ms is None else now_ms
    step = ReplayStep(cfg, sink, source, clock_ms)

    async def run() -> None:
        files = FileSource(messages, partitions, partitioner, on_progress)
        await drive(files, step, files.exhausted, timeout_s=0.0)

    asyncio.run(run())
    return step.counts.tally()


def summary_line(tally: Tally) -> str:
    """The one-line summary printed after a replay."""
    kinds = tally.sessions
    return (
        f"events={tally.events} accepted={tally.accepted} duplicates={tally.duplicates} "
        f"invalid={tally.invalid} late={tally.late} out_of_order={tally.out_of_order} "
        f"sessions: usage={kinds['usage']} voice={kinds['voice']} alert={kinds['alert']}"
    )
