"""Offline replay: an event file through the same core and sink as the streaming workers."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pipeline.core.config import MeterConfig
from pipeline.core.meter import Stores, Tally, apply_event, decode_event, sweep
from pipeline.eventfile import FileMessage
from schemas.dead_letter import DeadLetter
from schemas.fields import ValidationError
from sinks.base import BatchingSink

SWEEP_EVERY = 100_000  # events between two sweeps of idle and expired state


@dataclass(slots=True)
class Replayer:
    """Holds the state of one replay; feed it messages in order, then ``finish``."""

    cfg: MeterConfig
    sink: BatchingSink
    source: str
    now_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    tally: Tally = field(default_factory=Tally)
    stores: Stores = field(default_factory=Stores)
    stream_ms: int = 0

    def feed(self, message: FileMessage) -> None:
        """Process one message: dead-letter it or apply it and sink what it produced."""
        try:
            event = decode_event(message.topic, message.value, self.now_ms)
        except ValidationError as error:
            self.tally.add_invalid()
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
            return
        outcome = apply_event(event, self.stores, self.cfg)
        self.tally.add(outcome)
        if outcome.duplicate:
            return
        add = self.sink.add
        for session in outcome.sessions:
            add(session)
        for agent in outcome.agents:
            add(agent)
        for summary in outcome.summaries:
            add(summary)
        self.stream_ms = max(self.stream_ms, event.occurred_at_ms)
        if self.tally.events % SWEEP_EVERY == 0:
            self.sweep(self.stream_ms)

    def sweep(self, now_ms: int) -> None:
        """Close idle conversations and drop expired state as of stream time ``now_ms``."""
        for summary in sweep(self.stores, now_ms, self.cfg):
            self.sink.add(summary)

    def finish(self) -> Tally:
        """End of input: close every open conversation (as idle) and flush the sink."""
        self.sweep(self.stream_ms + self.cfg.idle_timeout_ms + 1)
        self.sink.flush()
        return self.tally


def replay(
    messages: Iterable[FileMessage],
    sink: BatchingSink,
    cfg: MeterConfig,
    source: str,
    *,
    now_ms: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> Tally:
    """Replay ``messages`` into ``sink``; returns the counts."""
    replayer = Replayer(cfg=cfg, sink=sink, source=source)
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
        f"invalid={tally.invalid} out_of_order={tally.out_of_order} "
        f"sessions: usage={kinds['usage']} voice={kinds['voice']} alert={kinds['alert']}"
    )
