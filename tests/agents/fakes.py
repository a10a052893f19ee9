"""A fake of the meter's Kafka port (:class:`agents.kafka.records.MeterPort`)."""

from __future__ import annotations

import asyncio

from agents import changelog
from agents.kafka.records import Delivery, Output, StaleError
from agents.meter import Meter


class FakeLink:
    """Records checkpoints like Kafka would: all of one, or nothing."""

    def __init__(self) -> None:
        self.epochs: dict[int, int] = {}
        self.log: list[tuple[int, list[Output], dict[str, int]]] = []
        self.caught_up: dict[tuple[str, int], float] = {}
        self.fail_next = False
        self.revoke_during_checkpoint: Meter | None = None
        self.resets: list[int] = []
        self.paused: set[tuple[str, int]] = set()
        self.script: list[Delivery] = []  # what ``fetch`` returns, in order
        self.stop = asyncio.Event()
        self.fetches = 0

    def epoch(self, partition: int) -> int | None:
        return self.epochs.get(partition)

    async def fetch(self, timeout_s: float) -> Delivery:
        """The next scripted delivery; once none is left, sets ``stop`` and delivers
        nothing (as a consumer at the end of its partitions does)."""
        self.fetches += 1
        if self.script:
            return self.script.pop(0)
        self.stop.set()
        return Delivery({}, dict(self.epochs))

    def caught_up_at(self, topic: str, partition: int) -> float | None:
        return self.caught_up.get((topic, partition))

    async def checkpoint(
        self, partition: int, epoch: int, outputs: list[Output], offsets: dict[str, int]
    ) -> None:
        await asyncio.sleep(0)
        if self.revoke_during_checkpoint is not None:  # the rebalance callback runs here
            self.epochs.pop(partition, None)
            self.revoke_during_checkpoint.revoked({partition})
        if self.epochs.get(partition) != epoch:
            raise StaleError(partition)
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("broker down")
        self.log.append((partition, outputs, offsets))

    def pause(self, topic: str, partition: int) -> None:
        self.paused.add((topic, partition))

    def resume(self, topic: str, partition: int) -> None:
        self.paused.discard((topic, partition))

    async def reset(self, partition: int) -> None:
        self.resets.append(partition)
        self.epochs.pop(partition, None)

    def changelog_of(self, partition: int) -> list[tuple[bytes, bytes | None]]:
        return [
            (o.key or b"", o.value)
            for p, outputs, _ in self.log
            if p == partition
            for o in outputs
            if o.topic == changelog.TOPIC
        ]
