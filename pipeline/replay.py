"""Offline replay: an event file through the same core and sink as the streaming workers.

Replay is partition-aware (SPEC section 2a): each line goes to the partition Kafka's
default partitioner gives its key, and each partition keeps its own state and stream
times, exactly as a worker that owns the partition does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pipeline.core.config import MeterConfig
from pipeline.core.conversation import summarize
from pipeline.core.meter import Tally, apply_event, decode_event, late_error, sweep
from pipeline.core.partitioning import partition_for
from pipeline.core.state import PartitionState
from pipeline.eventfile import FileMessage
from schemas.dead_letter import DeadLetter
from schemas.fields import ValidationError
from sinks.base import BatchingSink

DEFAULT_PARTITIONS = 6
SWEEP_EVERY = 100_000  # events between two sweeps (freeing never changes an outcome)


@dataclass(slots=True)
class Replayer:
    """Holds the state of one replay; feed it messages in order, then ``finish``."""

    cfg: MeterConfig
    sink: BatchingSink
    source: str
    partitions: int = DEFAULT_PARTITIONS
    now_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    tally: Tally = field(default_factory=Tally)
    states: dict[int, PartitionState] = field(default_factory=dict)

    def feed(self, message: FileMessage) -> None:
        """Process one message: dead-letter it or apply it and sink what it produced."""
        try:
            event = decode_event(message.topic, message.value, self.now_ms)
        except ValidationError as error:
            self.tally.add_invalid()
            self._dead_letter(error, message)
            return
        key = message.key if message.key is not None else b""
        partition = partition_for(key, self.partitions)
        part = self.states.get(partition)
        if part is None:
            part = self.states[partition] = PartitionState()
        outcome = apply_event(part, event, self.now_ms, self.cfg)
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
                partition=-1,
                offset=message.line,
                raw=message.value,
            )
        )

    def sweep(self) -> None:
        """Free forgotten state and report idle segments, in every partition."""
        for part in self.states.values():
            for summary in sweep(part, self.cfg):
                self.sink.add(summary)

    def finish(self) -> Tally:
        """End of input: report every segment still open (as idle) and flush the sink."""
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
    now_ms: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> Tally:
    """Replay ``messages`` into ``sink``; returns the counts."""
    replayer = Replayer(cfg=cfg, sink=sink, source=source, partitions=partitions)
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
