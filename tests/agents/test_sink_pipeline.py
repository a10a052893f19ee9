"""The sink's spine: decode overlaps the previous write, commits follow writes in order,
and a write that gave up commits nothing."""

from __future__ import annotations

import asyncio

import pytest

from agents.kafka.records import PartitionBatch
from pipeline.spine import Batch, Offsets, OneAhead


def _batch(n: int, end: int) -> Batch[list[PartitionBatch]]:
    return Batch([PartitionBatch("billing-sessions", 0, [n], [0], [b"{}"])], {("s", 0): end})


class Steps:
    """Records what happened, in order; each write waits for its gate."""

    def __init__(self, failing: frozenset[int] = frozenset()) -> None:
        self.events: list[str] = []
        self.gates: dict[int, asyncio.Event] = {}
        self.failing = failing

    async def decode(self, batch: list[PartitionBatch]) -> int:
        self.events.append(f"decode {batch[0].offsets[0]}")
        return batch[0].offsets[0]

    async def write(self, decoded: int) -> None:
        self.events.append(f"write {decoded} starts")
        await self.gates.setdefault(decoded, asyncio.Event()).wait()
        if decoded in self.failing:
            raise RuntimeError("gave up")
        self.events.append(f"write {decoded} done")


def test_the_next_batch_is_decoded_while_one_is_written_and_commits_follow_writes() -> None:
    async def scenario() -> list[str]:
        steps = Steps()
        committed: list[str] = []

        async def commit(offsets: Offsets) -> None:
            steps.events.append(f"commit {offsets['s', 0]}")
            committed.append(str(offsets))

        pipeline: OneAhead[list[PartitionBatch], int] = OneAhead(steps, commit)
        await pipeline.submit(_batch(1, 2))
        await asyncio.sleep(0)  # the write of batch 1 starts and waits
        second = asyncio.create_task(pipeline.submit(_batch(2, 3)))
        await asyncio.sleep(0)
        assert steps.events == ["decode 1", "write 1 starts", "decode 2"]
        assert committed == []  # batch 1 is not written yet
        steps.gates[1].set()
        await second
        steps.gates.setdefault(2, asyncio.Event()).set()
        await pipeline.join()
        return steps.events

    assert asyncio.run(scenario()) == [
        "decode 1",
        "write 1 starts",
        "decode 2",
        "write 1 done",
        "commit 2",
        "write 2 starts",
        "write 2 done",
        "commit 3",
    ]


def test_a_write_that_gave_up_commits_nothing_and_raises() -> None:
    async def scenario() -> list[int]:
        steps = Steps(failing=frozenset({1}))
        committed: list[int] = []

        async def commit(offsets: Offsets) -> None:
            committed.append(offsets["s", 0])

        pipeline: OneAhead[list[PartitionBatch], int] = OneAhead(steps, commit)
        await pipeline.submit(_batch(1, 2))
        steps.gates.setdefault(1, asyncio.Event()).set()
        with pytest.raises(RuntimeError, match="gave up"):
            await pipeline.join()
        await pipeline.join()  # nothing in flight any more
        return committed

    assert asyncio.run(scenario()) == []
