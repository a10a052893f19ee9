"""The sink's spine: decode a batch while the one before it is written, commit in order.

Three steps, each with one interface (after arroyo's strategies): ``decode`` (in a thread:
Arrow's JSON reader), ``write`` (in a thread: the ClickHouse insert and recount, retried
until it succeeds) and ``commit`` (the batch's offsets, last). At most one batch is being
written; the next is decoded meanwhile on the other core, so the two overlap. A batch's
offsets are committed only once its write returned, and before the next write starts, so
commits stay in order and nothing is acknowledged unwritten.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, Protocol, TypeVar

from agents.kafka.records import PartitionBatch

Decoded = TypeVar("Decoded")
Offsets = TypeVar("Offsets")


class SinkSteps(Protocol[Decoded]):
    """What the sink does with a consumed batch."""

    async def decode(self, batch: list[PartitionBatch]) -> Decoded:
        """Decode (must not touch what ``write`` buffers: it runs during a write)."""

    async def write(self, decoded: Decoded) -> None:
        """Write all of it, retrying; raises only if it gave up (the worker stops)."""


class OneAhead(Generic[Decoded, Offsets]):
    """Submits batches with their offsets; one is written while the next is decoded."""

    def __init__(
        self, steps: SinkSteps[Decoded], commit: Callable[[Offsets], Awaitable[None]]
    ) -> None:
        self._steps = steps
        self._commit = commit
        self._writing: tuple[asyncio.Task[None], Offsets] | None = None

    async def submit(self, batch: list[PartitionBatch], offsets: Offsets) -> None:
        """Decode ``batch`` (overlapping the write in flight), settle that write, then
        start writing it."""
        decoded = await self._steps.decode(batch)
        await self.settle()
        self._writing = (asyncio.create_task(self._steps.write(decoded)), offsets)

    async def settle(self) -> None:
        """Wait for the write in flight and commit its offsets (raises if it gave up:
        then nothing is committed)."""
        if self._writing is None:
            return
        task, offsets = self._writing
        self._writing = None
        await task
        await self._commit(offsets)
