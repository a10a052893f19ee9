"""Wake partitions that the consumer stopped fetching (records waiting, none arriving).

After a rebalance, Faust and aiokafka can leave a newly assigned partition
unfetched for good (faust-streaming #629: "certain topic partitions are not
sending fetch requests"). A rebalance test once saw it: the partitions of the
killed meter had records, no committed offset, and the survivor read none of
them for 240 s. Faust's own check only logs after ``stream_processing_timeout``.

Every few seconds the watchdog compares, per partition it watches, the next
offset to process (the offset guard's, else the committed one) with the log end.
A partition is stalled when records are waiting, none was handed out past that
offset (so none is buffered or in flight), and that has not changed for
``stall_after_s``. It then resumes the partition in Faust and seeks it to that
offset, which restarts its fetching without reading anything processed twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from agents.guard import OffsetGuard

log = logging.getLogger(__name__)
STALL_AFTER_S = 15.0


def _ignore_wake(_topic: str) -> None:
    """Default hook (metrics replace it)."""


class FetchWatchdog:
    """Finds and wakes stalled partitions of the topics ``watch`` accepts."""

    def __init__(
        self,
        app: Any,
        guard: OffsetGuard,
        watch: Callable[[Any], bool],
        clock: Callable[[], float] = time.monotonic,
        stall_after_s: float = STALL_AFTER_S,
    ) -> None:
        self.app, self.guard, self.watch, self.clock = app, guard, watch, clock
        self.stall_after_s = stall_after_s
        self.since: dict[Any, tuple[int, float]] = {}  # partition -> (next offset, since when)
        self.on_wake: Callable[[str], None] = _ignore_wake

    def _settled(self) -> bool:
        app = self.app
        recovered = app.tables.recovery.completed.is_set()
        return recovered and not app.rebalancing and not app.in_recovery

    def _next_offset(self, tp: Any) -> int:
        expected = self.guard.expected.get(tp)
        if expected is not None:
            return expected
        return self.app.consumer._committed_offset.get(tp) or 0  # Faust's copy of it

    async def check(self) -> None:
        """Timer: wake every partition stalled for ``stall_after_s``."""
        if not self._settled():
            self.since.clear()  # a rebalance restarts every clock
            return
        consumer = self.app.consumer
        now = self.clock()
        candidates = []
        for tp in consumer.assignment():
            if not self.watch(tp):
                continue
            offset = self._next_offset(tp)
            read = consumer._read_offset.get(tp)  # the last offset Faust handed out
            if read is not None and read >= offset:
                self.since.pop(tp, None)  # records are on their way
                continue
            seen = self.since.get(tp)
            if seen is None or seen[0] != offset:
                self.since[tp] = (offset, now)
            elif now - seen[1] >= self.stall_after_s:
                candidates.append((tp, offset))
        if candidates:
            ends = await consumer.highwaters(*(tp for tp, _ in candidates))
            for tp, offset in candidates:
                if ends.get(tp, 0) > offset:
                    await self._wake(tp, offset, ends[tp], now)

    async def _wake(self, tp: Any, offset: int, end: int, now: float) -> None:
        self.on_wake(tp.topic)
        self.since[tp] = (offset, now)
        log.warning(
            "partition stalled with records waiting; waking it",
            extra={
                "context": {
                    "topic": tp.topic,
                    "partition": tp.partition,
                    "offset": offset,
                    "end": end,
                }
            },
        )
        self.app.consumer.resume_partitions({tp})
        await self.app.consumer.seek(tp, offset)
