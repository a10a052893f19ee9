"""The records, outputs and deliveries that cross the Kafka boundary (no client state)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from pipeline.spine import Message

#: The producer's header that orders messages stamped in the same millisecond.
SEQ_HEADER = "billing-seq"


#: A consumed record; ``topic`` is the base name (without the prefix).
Record = Message


class PartitionBatch(NamedTuple):
    """Consumed records of one partition, column-wise (the sink reads whole columns)."""

    topic: str  # the base name
    partition: int
    offsets: list[int]
    timestamps: list[int]
    values: list[bytes]

    def record(self, i: int) -> Record:
        """The ``i``-th record (to report where a bad value was)."""
        return Record(
            self.topic, self.partition, self.offsets[i], self.timestamps[i], None, self.values[i]
        )


class Output(NamedTuple):
    """A record to produce; ``partition`` None lets the default partitioner choose."""

    topic: str
    key: bytes | None
    value: bytes | None
    ts_ms: int | None = None
    partition: int | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one fetch returned: records per partition number, with the epoch each
    partition was opened in (records of an epoch that ended are never applied), and the
    partitions opened by this fetch (their offsets travel in ``Opened.committed``)."""

    records: dict[int, list[Record]]
    epochs: dict[int, int]
    opened: list[Opened] = field(default_factory=list)


class Restoring(Protocol):
    """What a partition's changelog records are fed to as they are read (the meter's
    :class:`agents.changelog.Restorer`): the link holds no copy of them."""

    def add(self, key: bytes, value: bytes | None) -> None:
        """Take one record, oldest first (``None``: a tombstone)."""


@dataclass(frozen=True, slots=True)
class Opened:
    """A newly owned partition: its changelog, read to its end, and its offsets."""

    partition: int
    epoch: int
    changelog: Restoring
    committed: dict[str, int]  # input topic (base name) -> next offset to read


def seq_of(headers: Iterable[tuple[str, bytes | None]] | None) -> int:
    """The ``billing-seq`` header (8-byte big-endian, unsigned), 0 without it or when it is
    not 8 bytes (a header without a value included)."""
    for name, value in headers or ():
        if name == SEQ_HEADER and value is not None and len(value) == 8:
            return int.from_bytes(value, "big")
    return 0


@dataclass(slots=True)
class Topics:
    """Full names of a link's topics: ``prefix`` + base name, and back."""

    prefix: str

    def full(self, base: str) -> str:
        """The full name of a topic."""
        return f"{self.prefix}{base}"

    def base(self, full: str) -> str:
        """The base name of a topic."""
        return full[len(self.prefix) :]


@dataclass(slots=True)
class Ownership:
    """What a link owns: partitions opened (with their epoch) or waiting to be opened.

    Every opening gets a new epoch. The lock serializes rebalance callbacks and
    openings; checkpoints run concurrently with each other but never with those.
    """

    opened: dict[int, int] = field(default_factory=dict)  # partition -> epoch
    waiting: set[int] = field(default_factory=set)
    last_epoch: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    in_flight: int = 0
    idle: asyncio.Event = field(default_factory=asyncio.Event)

    @contextlib.asynccontextmanager
    async def checkpointing(self) -> AsyncIterator[None]:
        """Count a checkpoint in flight; none starts while the lock is held (a rebalance)."""
        while self.lock.locked():
            async with self.lock:
                pass
        self.in_flight += 1
        self.idle.clear()
        try:
            yield
        finally:
            self.in_flight -= 1
            if not self.in_flight:
                self.idle.set()

    async def drained(self) -> None:
        """Wait until no checkpoint is in flight (call with the lock held)."""
        if self.in_flight:
            await self.idle.wait()


class StaleError(Exception):
    """The partition was revoked (or reset) since its records were delivered."""


class MeterPort(Protocol):
    """What the meter needs of Kafka (:class:`agents.kafka.meter_link.MeterLink`; tests fake it)."""

    def epoch(self, partition: int) -> int | None:
        """The epoch ``partition`` is opened in, or None."""

    async def fetch(self, timeout_s: float) -> Delivery:
        """Open newly owned partitions, then fetch."""

    def caught_up_at(self, topic: str, partition: int) -> float | None:
        """When a fetch response showed the partition delivered to its end (s), else None."""

    async def checkpoint(
        self, partition: int, epoch: int, outputs: list[Output], offsets: dict[str, int]
    ) -> None:
        """Outputs and consumed offsets in one transaction; ``StaleError`` if revoked."""

    async def reset(self, partition: int) -> None:
        """Forget the partition and open it again from Kafka."""

    def pause(self, topic: str, partition: int) -> None:
        """Fetch no more of ``topic``/``partition`` until resumed (its merge queue is full)."""

    def resume(self, topic: str, partition: int) -> None:
        """Fetch ``topic``/``partition`` again."""
