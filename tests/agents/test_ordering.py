"""The merge of the conversation topics by timestamp."""

from __future__ import annotations

from agents.ordering import Held, Merger

TOPICS = ("conversation-turns", "agent-transfers")


def rec(
    topic: str, ts: int, offset: int, *, partition: int = 0, since: float = 0.0, seq: int = 0
) -> Held:
    return Held(ts, seq, TOPICS.index(topic), offset, partition, topic, None, b"", since)


def test_releases_up_to_the_slower_topics_frontier() -> None:
    merger = Merger(TOPICS)
    for offset, ts in enumerate((10, 20, 30)):
        merger.add(rec("conversation-turns", ts, offset))
    merger.add(rec("agent-transfers", 15, 0))
    released = merger.release(0, {}, now_s=0.0)
    assert [(r.topic, r.ts_ms) for r in released] == [
        ("conversation-turns", 10),
        ("agent-transfers", 15),
    ]
    assert [r.ts_ms for r in merger.pending(0)] == [20, 30]
    merger.add(rec("agent-transfers", 25, 1))
    assert [r.ts_ms for r in merger.release(0, {}, now_s=0.0)] == [20, 25]


def test_held_long_enough_and_the_other_topic_idle_as_of_a_later_fetch_releases() -> None:
    merger = Merger(TOPICS, max_hold_s=1.0)
    merger.add(rec("conversation-turns", 10, 0, since=5.0))
    assert merger.release(0, {"agent-transfers": 5.5}, now_s=5.5) == []  # not held long
    assert merger.release(0, {}, now_s=9.0) == []  # lagging: wait for it
    # read to its end, but as of a fetch from before the hold ended: the highwater may be stale
    assert merger.release(0, {"agent-transfers": 5.9}, now_s=9.0) == []
    assert len(merger.release(0, {"agent-transfers": 6.0}, now_s=6.0)) == 1


def test_ties_by_topic_rank_then_offset_and_partitions_are_separate() -> None:
    merger = Merger(TOPICS)
    merger.add(rec("agent-transfers", 10, 0))
    merger.add(rec("conversation-turns", 10, 1))
    merger.add(rec("conversation-turns", 10, 0))
    merger.add(rec("conversation-turns", 5, 0, partition=1))
    idle = dict.fromkeys(TOPICS, 5.0)
    assert [(r.topic, r.offset) for r in merger.release(0, idle, 5.0)] == [
        ("conversation-turns", 0),
        ("conversation-turns", 1),
        ("agent-transfers", 0),
    ]
    assert merger.partitions() == [1]
    merger.drop(1)
    assert merger.partitions() == []


def test_producer_sequence_orders_records_of_one_millisecond() -> None:
    merger = Merger(TOPICS)
    merger.add(rec("conversation-turns", 10, 0, seq=2))
    merger.add(rec("agent-transfers", 10, 0, seq=1))
    assert merger.release(0, {}, 0.0) == []  # a tie proves nothing: wait
    released = merger.release(0, dict.fromkeys(TOPICS, 5.0), 5.0)
    assert [r.topic for r in released] == ["agent-transfers", "conversation-turns"]


def test_a_frontier_equal_to_the_timestamp_does_not_release() -> None:
    merger = Merger(TOPICS)
    merger.add(rec("conversation-turns", 10, 0, seq=5))
    merger.add(rec("agent-transfers", 10, 0, seq=1))  # transfers frontier == 10
    merger.add(rec("conversation-turns", 11, 1, seq=7))  # turns frontier == 11
    released = merger.release(0, {}, 0.0)
    assert [(r.topic, r.seq) for r in released] == [("agent-transfers", 1)]
    merger.add(rec("agent-transfers", 12, 1, seq=9))
    assert [r.seq for r in merger.release(0, {}, 0.0)] == [5, 7]
