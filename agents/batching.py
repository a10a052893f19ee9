"""Batches from a Faust stream, acknowledged only after they were handled.

Faust's ``take``/``take_events`` acknowledge a batch in a ``finally`` block, so
a batch whose handler raised or was cancelled (a send interrupted by a
rebalance, a crash) is committed without having been processed. Here the
stream is ``noack()``: a record is acknowledged after its batch was handled,
and a failure stops the worker, so unacknowledged records are read again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

Handle = Callable[[list[Any]], Awaitable[None]]
Admit = Callable[[Any], Awaitable[bool]]


async def _admit_all(_event: Any) -> bool:
    return True


class Batcher:
    """Collects events; hands over at ``size`` events or ``within`` seconds, then acks."""

    def __init__(
        self, stream: Any, size: int, within: float, handle: Handle, admit: Admit = _admit_all
    ) -> None:
        self.stream = stream
        self.admit = admit
        self.size = size
        self.within = within
        self.handle = handle
        self.buffer: list[Any] = []
        self.first_at = 0.0
        self.lock = asyncio.Lock()

    async def add(self, event: Any) -> None:
        """Buffer one event; hand over the batch when it is full."""
        if not await self.admit(event):  # skipped by the consumer: it is read again
            return
        if not self.buffer:
            self.first_at = time.monotonic()
        self.buffer.append(event)
        if len(self.buffer) >= self.size:
            await self.flush()

    async def flush(self) -> None:
        """Hand over the buffered events, then acknowledge them."""
        async with self.lock:
            if not self.buffer:
                return
            batch, self.buffer = self.buffer, []
            try:
                await self.handle(batch)
            except BaseException:
                first = batch[0].message
                log.critical(
                    "a batch failed; stopping the worker so that it is read again",
                    exc_info=True,
                    extra={
                        "context": {
                            "topic": first.topic,
                            "partition": first.partition,
                            "offset": first.offset,
                            "records": len(batch),
                        }
                    },
                )
                os.kill(os.getpid(), signal.SIGTERM)
                raise
            for event in batch:
                await self.stream.ack(event)

    async def flush_when_due(self) -> None:
        """Background: flush a partial batch once it is ``within`` seconds old."""
        while True:
            await asyncio.sleep(self.within / 2)
            if self.buffer and time.monotonic() - self.first_at >= self.within:
                await self.flush()


async def run_batches(
    stream: Any, size: int, within: float, handle: Handle, admit: Admit = _admit_all
) -> None:
    """Agent body: feed ``handle`` with batches of events of ``stream`` that ``admit`` accepts."""
    manual = stream.noack()
    batcher = Batcher(manual, size, within, handle, admit)
    ticker = asyncio.create_task(batcher.flush_when_due())
    try:
        async for event in manual.events():
            await batcher.add(event)
    finally:
        ticker.cancel()
