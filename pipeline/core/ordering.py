"""The cross-topic processing order of SPEC section 2b (pure: no I/O, no clock).

``conversation-turns`` and ``agent-transfers`` are co-partitioned. Within one
partition of one topic, records keep their offset order; the partitions with the
same number of the two topics are merged into one order: the next record is the
topic head with the smallest

    (record timestamp, billing-seq, occurred_at, topic rank, offset)

This is a merge of FIFO queues by their heads, not a sort: a record never
overtakes an earlier record of its own topic. The same :class:`Merge` serves
offline replay (which knows every record) and the meter (which must decide,
for a topic with nothing queued, whether it may still deliver a record ordered
first: :mod:`agents.meter` waits for it at most ``MAX_HOLD``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Generic, NamedTuple, TypeVar

from schemas import agent_transfer, conversation_turn

#: The merged topics, in the order that breaks an exact tie (SPEC 2b: turns first).
MERGED_TOPICS = (conversation_turn.TOPIC, agent_transfer.TOPIC)
RANK = {topic: rank for rank, topic in enumerate(MERGED_TOPICS)}

Item = TypeVar("Item")


class Position(NamedTuple):
    """Where a record stands in the merged order (compared as a tuple)."""

    ts_ms: int
    seq: int
    occurred_ms: int
    rank: int
    offset: int


def position(topic: str, ts_ms: int, seq: int, occurred_ms: int, offset: int) -> Position:
    """A record's position; ``occurred_ms`` is 0 for an invalid event (it changes no
    state, so where it stands does not matter, but replay and stream place it alike)."""
    return Position(ts_ms, seq, occurred_ms, RANK[topic], offset)


class Queued(NamedTuple, Generic[Item]):
    """A record waiting in the merge, with when it was queued (seconds, caller's clock)."""

    at: Position
    item: Item
    since: float


#: ``may_pass(rank, head)``: may ``head`` go while the topic of ``rank`` has nothing queued?
MayPass = Callable[[int, "Queued[Item]"], bool]


class Merge(Generic[Item]):
    """One partition's merge of the topics of :data:`MERGED_TOPICS`."""

    __slots__ = ("queues",)

    def __init__(self) -> None:
        self.queues: tuple[deque[Queued[Item]], ...] = tuple(deque() for _ in MERGED_TOPICS)

    def push(self, at: Position, item: Item, since: float = 0.0) -> None:
        """Queue a record (records of one topic come in offset order)."""
        self.queues[at.rank].append(Queued(at, item, since))

    def release(self, may_pass: MayPass[Item]) -> list[Item]:
        """Records that go now, in merged order.

        The smallest head goes when every other topic has a head (then it is known
        to go first) or, for each topic with nothing queued, ``may_pass`` says no
        record of that topic can still come before it.
        """
        released: list[Item] = []
        queues = self.queues
        while True:
            heads = [queue[0] for queue in queues if queue]
            if not heads:
                return released
            head = min(heads)
            if len(heads) < len(queues) and not all(
                may_pass(rank, head) for rank, queue in enumerate(queues) if not queue
            ):
                return released
            released.append(queues[head.at.rank].popleft().item)

    def drain(self) -> list[Item]:
        """Every queued record in merged order (the end of a finite input)."""
        return self.release(lambda _rank, _head: True)

    def first_offset(self, rank: int) -> int | None:
        """The offset of the first record of topic ``rank`` still queued, if any."""
        queue = self.queues[rank]
        return queue[0].at.offset if queue else None

    def held(self, rank: int | None = None) -> int:
        """How many records are queued (of one topic, or of all)."""
        if rank is not None:
            return len(self.queues[rank])
        return sum(len(queue) for queue in self.queues)


def never(_rank: int, _head: object) -> bool:
    """A ``may_pass`` for an input that may still deliver anything (replay mid-file)."""
    return False
