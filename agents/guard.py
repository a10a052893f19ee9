"""Refuse records Faust delivers after skipping some (and read the skipped ones again).

After a rebalance, Faust can hand a stream a record past the next expected
offset and never go back (faust-streaming #216, #221): the records in between
are never processed, and Faust's gap bookkeeping even lets their offsets be
committed. A rebalance test lost 87 records of one partition this way. The
input topics are written without transactions or compaction, so their offsets
are dense and any jump is such a skip. The guard drops the record that jumped
(unacknowledged), seeks the partition back to the expected offset, and removes
the jump from Faust's gap list, so the skipped records are read and processed
before anything past them is committed.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)
_END = 2**62


class OffsetGuard:
    """Tracks the next offset of every partition a worker reads."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.expected: dict[Any, int] = {}
        self.rewinding: set[Any] = set()
        self.rewinds = 0

    def forget(self, tps: set[Any]) -> None:
        """Partitions revoked: a new owner resumes from the committed offset."""
        for tp in tps:
            self.expected.pop(tp, None)
            self.rewinding.discard(tp)

    async def admit(self, event: Any) -> bool:
        """True to process ``event``; False for a record past a skip (dropped, read again)."""
        message = event.message
        tp, offset = message.tp, message.offset
        want = self.expected.get(tp)
        if want is None or offset <= want:  # first read, in order, or read again after a seek
            self.expected[tp] = offset + 1
            self.rewinding.discard(tp)
            return True
        self._drop(message)
        if tp not in self.rewinding:
            self.rewinding.add(tp)
            self.rewinds += 1
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
            await self._rewind(tp, want)
        return False

    def _drop(self, message: Any) -> None:
        message.acked = True  # never acknowledged: no commit past it, no wait for it
        self.app.consumer._unacked_messages.discard(message)  # Faust's bookkeeping

    async def _rewind(self, tp: Any, offset: int) -> None:
        gaps = self.app.consumer._gap.get(tp)  # else Faust commits the skip
        if gaps:
            gaps.chop(offset, _END)
        await self.app.consumer.seek(tp, offset)
