"""The processing spine every runtime composes: a source, steps, and one driver loop.

After getsentry/arroyo's strategies: a *step* has one interface, ``submit`` (take a
batch), ``poll`` (do what is due without waiting: commit a finished write, sweep) and
``join`` (finish everything in hand and commit it, before stopping or giving up a
partition). A *source* fetches batches; each carries the offsets it ends at, and those
travel with it until the last step commits them, so nothing is acknowledged unhandled.

Three compositions of the same :func:`drive` loop::

    meter   MeterLink.fetch ─▶ Meter: admit ▸ decode ▸ merge ▸ apply ▸ emit ▸ commit
                                  (changelog, outputs, offsets: one Kafka transaction)
    sink    SinkLink.fetch  ─▶ OneAhead: decode ▸ write (ClickHouse) ▸ commit (offsets)
    replay  FileSource.fetch ─▶ ReplayStep: decode ▸ merge ▸ apply ▸ emit (sink) ▸ no commit

The meter and replay share the decode, merge and apply/dead-letter steps
(:mod:`pipeline.partition`); the Kafka sources and commits are in ``agents.kafka``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Generic, NamedTuple, Protocol, TypeVar

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)
T_co = TypeVar("T_co", covariant=True)
Decoded = TypeVar("Decoded")
Payload = TypeVar("Payload")
Payload_contra = TypeVar("Payload_contra", contravariant=True)

#: Where a batch ends: (topic base name, partition) -> the next offset to read.
Offsets = Mapping[tuple[str, int], int]


class Message(NamedTuple):
    """One consumed record (of Kafka or of an event file); ``topic`` is the base name."""

    topic: str
    partition: int
    offset: int
    ts_ms: int
    key: bytes | None
    value: bytes | None  # None: a tombstone (any client can send one; it is dead-lettered)
    seq: int = 0  # the producer's ``billing-seq`` header, 0 without it


@dataclass(frozen=True, slots=True)
class Batch(Generic[T]):
    """A fetched batch and the offsets to commit once it is handled."""

    payload: T
    offsets: Offsets


class Step(Protocol[T_contra]):
    """One processing step (arroyo's ``ProcessingStrategy``, asynchronous)."""

    async def submit(self, batch: T_contra) -> None:
        """Take a batch (may wait for the step before it to make room)."""

    async def poll(self) -> None:
        """Do what is due without waiting for anything in flight."""

    async def join(self) -> None:
        """Finish and commit everything taken; raises if it gave up (nothing committed)."""


class Source(Protocol[T_co]):
    """Where batches come from: a consumer group, or a file."""

    async def fetch(self, timeout_s: float) -> T_co | None:
        """The next batch, or None when nothing came within ``timeout_s``."""


async def drive(source: Source[T], step: Step[T], stop: asyncio.Event, timeout_s: float) -> None:
    """The one driver loop: fetch, submit, poll until ``stop`` is set; then join."""
    while not stop.is_set():
        batch = await source.fetch(timeout_s)
        if batch is not None:
            await step.submit(batch)
        await step.poll()
    await step.join()


class Serialized(Generic[T]):
    """A step whose calls hold ``lock`` (a rebalance callback joins it under the lock)."""

    def __init__(self, step: Step[T], lock: asyncio.Lock) -> None:
        self.step, self.lock = step, lock

    async def submit(self, batch: T) -> None:
        """Submit under the lock."""
        async with self.lock:
            await self.step.submit(batch)

    async def poll(self) -> None:
        """Poll under the lock."""
        async with self.lock:
            await self.step.poll()

    async def join(self) -> None:
        """Join under the lock."""
        async with self.lock:
            await self.step.join()


class Writer(Protocol[Payload_contra, Decoded]):
    """What :class:`OneAhead` does with a batch's payload."""

    async def decode(self, payload: Payload_contra) -> Decoded:
        """Decode (must not touch what ``write`` buffers: it runs during a write)."""

    async def write(self, decoded: Decoded) -> None:
        """Write all of it, retrying; raises only if it gave up (the worker stops)."""


class OneAhead(Generic[Payload, Decoded]):
    """Decode a batch while the one before it is written; commit each once written.

    At most one batch is being written; the next is decoded meanwhile (in a thread, on
    the other core). A batch's offsets are committed only once its write returned and
    before the next write starts, so commits stay in order and nothing is acknowledged
    unwritten.
    """

    def __init__(
        self, writer: Writer[Payload, Decoded], commit: Callable[[Offsets], Awaitable[None]]
    ) -> None:
        self._writer = writer
        self._commit = commit
        self._writing: tuple[asyncio.Task[None], Offsets] | None = None

    async def submit(self, batch: Batch[Payload]) -> None:
        """Decode ``batch`` (overlapping the write in flight), join that write, then
        start writing this one."""
        decoded = await self._writer.decode(batch.payload)
        await self.join()
        self._writing = (asyncio.create_task(self._writer.write(decoded)), batch.offsets)

    async def poll(self) -> None:
        """Commit the write in flight if it has finished."""
        if self._writing is not None and self._writing[0].done():
            await self.join()

    async def join(self) -> None:
        """Wait for the write in flight and commit its offsets (raises if it gave up:
        then nothing is committed)."""
        if self._writing is None:
            return
        task, offsets = self._writing
        self._writing = None
        await task
        await self._commit(offsets)
