"""Refuse records Faust delivers after skipping some (and read the skipped ones again).

After a rebalance, Faust can hand a stream a record past the next expected
offset and never go back (faust-streaming #216, #221): the records in between
are never processed, and Faust's gap bookkeeping even lets their offsets be
committed. A rebalance test lost 87 records of one partition this way. The
input topics are written without transactions or compaction, so their offsets
are dense and any jump is such a skip. The guard drops the record that jumped
(unacknowledged), seeks the partition back to the expected offset (again after a
second if the stream has not come back), and removes the jump from Faust's gap
list, so the skipped records are read and processed before anything past them
is committed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)
_END = 2**62
RESEEK_AFTER_S = 1.0


def _ignore_rewind(_topic: str) -> None:
    """Default hook (metrics replace it)."""


class OffsetGuard:
    """Tracks the next offset of every partition a worker reads."""

    def __init__(self, app: Any, clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.expected: dict[Any, int] = {}
        self.rewinding: dict[Any, float] = {}  # partition -> when it was last sought back
        self.rewinds = 0
        self.clock = clock
        self.on_rewind: Callable[[str], None] = _ignore_rewind

    def forget(self, tps: set[Any]) -> None:
        """Partitions revoked: when assigned again, reading resumes at the committed offset."""
        for tp in tps:
            self.expected.pop(tp, None)
            self.rewinding.pop(tp, None)

    async def admit(self, event: Any) -> bool:
        """True to process ``event``; False for a record past a skip (dropped, read again)."""
        message = event.message
        tp, offset = message.tp, message.offset
        want = self.expected.get(tp)
        if want is None:  # first record since the assignment: the group's committed offset
            want = self.app.consumer._committed_offset.get(tp)  # Faust's copy of it
        if want is None or offset <= want:  # first read, in order, or read again after a seek
            self.expected[tp] = offset + 1
            self.rewinding.pop(tp, None)
            return True
        self._drop(message)
        now = self.clock()
        if tp in self.rewinding and now - self.rewinding[tp] < RESEEK_AFTER_S:
            return False
        if tp not in self.rewinding:
            self.rewinds += 1
            self.on_rewind(tp.topic)
            log.warning(
                "the consumer skipped records; reading them again",
                extra={
                    "context": {
                        "topic": tp.topic,
                        "partition": tp.partition,
                        "expected": want,
                        "offset": offset,
                    }
                },
            )
        # Again if the stream did not come back: the consumer's fetch loop may have moved
        # Faust's read offset past the seek while it handed out the rest of a batch.
        self.rewinding[tp] = now
        await self._rewind(tp, want)
        return False

    async def retry(self) -> None:
        """Timer: seek again where the stream has not come back (also when nothing arrives)."""
        now = self.clock()
        for tp, since in list(self.rewinding.items()):
            if now - since >= RESEEK_AFTER_S and tp in self.expected:
                self.rewinding[tp] = now
                await self._rewind(tp, self.expected[tp])

    def _drop(self, message: Any) -> None:
        message.acked = True  # never acknowledged: no commit past it, no wait for it
        self.app.consumer._unacked_messages.discard(message)  # Faust's bookkeeping

    async def _rewind(self, tp: Any, offset: int) -> None:
        gaps = self.app.consumer._gap.get(tp)  # else Faust commits the skip
        if gaps:
            gaps.chop(offset, _END)
        await self.app.consumer.seek(tp, offset)
