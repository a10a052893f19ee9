"""A fake of the meter's Kafka port (:class:`agents.kafka.records.MeterPort`)."""

from __future__ import annotations

import asyncio

from agents import changelog
from agents.kafka.records import Delivery, Opened, Output, StaleError
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

    def epoch(self, partition: int) -> int | None:
        return self.epochs.get(partition)

    async def poll(self, timeout_s: float) -> tuple[Delivery, list[Opened]]:
        raise AssertionError("the tests drive process() directly")

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
