"""Offline replay: an event file through the same core and sink as the streaming workers.

Replay is partition-aware (SPEC section 2a): each line goes to the partition its
key would go to (``--partitioner``: the Java client's murmur2 or librdkafka's CRC32),
or to the ``partition`` a dump of the topics gives it, and each partition keeps its own
state and stream times, exactly as a worker that owns the partition does.

A file without record timestamps is in processing order. A dump (every line with a
``timestamp``) is merged as the meter merges the topics (SPEC 2b,
:mod:`pipeline.core.ordering`), so it replays to what the stream computed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pipeline.core.config import MeterConfig
from pipeline.core.conversation import summarize
from pipeline.core.meter import (
    Event,
    Tally,
    apply_event,
    decode_or_error,
    late_error,
    processing_clock,
    sweep,
)
from pipeline.core.ordering import RANK, Merge, never, position
from pipeline.core.partitioning import Partitioner, partition_for
from pipeline.core.state import PartitionState
from pipeline.eventfile import EventFileError, FileMessage
from schemas.dead_letter import DeadLetter
from schemas.fields import ValidationError
from sinks.base import BatchingSink

DEFAULT_PARTITIONS = 6
SWEEP_EVERY = 100_000  # events between two sweeps (freeing never changes an outcome)

Decoded = tuple[FileMessage, Event | ValidationError]


@dataclass(slots=True)
class Replayer:
    """Holds the state of one replay; feed it messages in order, then ``finish``."""

    cfg: MeterConfig
    sink: BatchingSink
    source: str
    partitions: int = DEFAULT_PARTITIONS
    partitioner: Partitioner = partition_for
    now_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    tally: Tally = field(default_factory=Tally)
    states: dict[int, PartitionState] = field(default_factory=dict)
    merges: dict[int, Merge[Decoded]] = field(default_factory=dict)
    dump: bool | None = None  # decided by the first line: does it carry a timestamp?

    def feed(self, message: FileMessage) -> None:
        """Take one message: apply it now (file order), or merge it first (a dump)."""
        self._check_kind(message)
        clock_ms = processing_clock(self.now_ms, message.timestamp)
        decoded = decode_or_error(message.topic, message.value, clock_ms)
        partition = self._partition(message)
        if not self.dump or message.topic not in RANK:
            self._apply(partition, (message, decoded))
            return
        occurred = 0 if isinstance(decoded, ValidationError) else decoded.occurred_at_ms
        offset = message.line if message.offset is None else message.offset
        at = position(message.topic, message.timestamp or 0, message.seq or 0, occurred, offset)
        merge = self.merges.get(partition)
        if merge is None:
            merge = self.merges[partition] = Merge()
        merge.push(at, (message, decoded))
        for item in merge.release(never):
            self._apply(partition, item)

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

    def _apply(self, partition: int, item: Decoded) -> None:
        """Dead-letter an invalid or late event, or sink what a valid one produced."""
        message, decoded = item
        if isinstance(decoded, ValidationError):
            self.tally.add_invalid()
            self._dead_letter(decoded, message)
            return
        part = self.states.get(partition)
        if part is None:
            part = self.states[partition] = PartitionState()
        outcome = apply_event(
            part, decoded, processing_clock(self.now_ms, message.timestamp), self.cfg
        )
        self.tally.add(outcome)
        if outcome.late:
            self._dead_letter(late_error(self.cfg), message)
            return
        add = self.sink.add
        for session in outcome.sessions:
            add(session)
        for agent in outcome.agents:
            add(agent)
        for summary in outcome.summaries:
            add(summary)
        if self.tally.events % SWEEP_EVERY == 0:
            self.sweep()

    def _dead_letter(self, error: ValidationError, message: FileMessage) -> None:
        self.sink.add(
            DeadLetter.from_error(
                error,
                source=self.source,
                topic=message.topic,
                partition=-1 if message.partition is None else message.partition,
                offset=message.line if message.offset is None else message.offset,
                raw=message.value or b"",
            )
        )

    def sweep(self) -> None:
        """Free forgotten state and report idle segments, in every partition."""
        for part in self.states.values():
            for summary in sweep(part, self.cfg):
                self.sink.add(summary)

    def finish(self) -> Tally:
        """End of input: release what the merges hold, report every segment still open
        (as idle) and flush the sink."""
        for partition, merge in sorted(self.merges.items()):
            for item in merge.drain():
                self._apply(partition, item)
        self.sweep()
        for part in self.states.values():
            for state in part.conversations.values():
                if not state.reported and not state.ended:
                    self.sink.add(summarize(state, "idle"))
        self.sink.flush()
        return self.tally


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
    replayer = Replayer(
        cfg=cfg, sink=sink, source=source, partitions=partitions, partitioner=partitioner
    )
    if now_ms is not None:
        replayer.now_ms = now_ms
    for count, message in enumerate(messages, 1):
        replayer.feed(message)
        if on_progress is not None and count % 10_000 == 0:
            on_progress(count)
    return replayer.finish()


def summary_line(tally: Tally) -> str:
    """The one-line summary printed after a replay."""
    kinds = tally.sessions
    return (
        f"events={tally.events} accepted={tally.accepted} duplicates={tally.duplicates} "
        f"invalid={tally.invalid} late={tally.late} out_of_order={tally.out_of_order} "
        f"sessions: usage={kinds['usage']} voice={kinds['voice']} alert={kinds['alert']}"
    )
