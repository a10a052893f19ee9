"""The merge of the conversation topics: per-topic offset order, then timestamp and sequence."""

from __future__ import annotations

from agents.kafka.records import Record
from agents.ordering import Merger

TURNS, TRANSFERS = "conversation-turns", "agent-transfers"
TOPICS = (TURNS, TRANSFERS)


def add(
    merger: Merger, topic: str, ts: int, offset: int, *, seq: int = 0, now: float = 0.0
) -> None:
    merger.add(Record(topic, 0, offset, ts, None, b"", seq), now)


def short(records: list[Record]) -> list[tuple[str, int, int]]:
    return [(r.topic, r.ts_ms, r.offset) for r in records]


def test_the_smaller_head_goes_first_while_both_topics_have_records() -> None:
    merger = Merger(TOPICS)
    for offset, ts in enumerate((10, 20, 30)):
        add(merger, TURNS, ts, offset)
    add(merger, TRANSFERS, 15, 0)
    assert short(merger.release({}, now_s=0.0)) == [(TURNS, 10, 0), (TRANSFERS, 15, 0)]
    # turns at 20: transfers has nothing waiting and its frontier (15) is earlier: wait
    assert merger.first_held(TURNS) == 1 and merger.held() == 2
    add(merger, TRANSFERS, 25, 1)
    assert short(merger.release({}, now_s=0.0)) == [(TURNS, 20, 1), (TRANSFERS, 25, 1)]


def test_records_of_one_topic_keep_their_offset_order_whatever_their_timestamps() -> None:
    merger = Merger(TOPICS)
    add(merger, TURNS, 30, 0)
    add(merger, TURNS, 10, 1)  # an earlier timestamp at a later offset
    add(merger, TRANSFERS, 40, 0)
    assert [r.offset for r in merger.release({}, 0.0)] == [0, 1]


def test_an_idle_topic_releases_only_as_of_a_fetch_a_hold_after_the_record() -> None:
    merger = Merger(TOPICS, max_hold_s=1.0)
    add(merger, TURNS, 10, 0, now=5.0)
    assert short(merger.release({TRANSFERS: 5.5}, now_s=5.5)) == []  # not held long
    assert short(merger.release({}, now_s=9.0)) == []  # transfers not known to be caught up
    # read to its end, but as of a fetch from before the hold ended: may be stale
    assert short(merger.release({TRANSFERS: 5.9}, now_s=9.0)) == []
    assert short(merger.release({TRANSFERS: 6.0}, now_s=6.0)) == [(TURNS, 10, 0)]


def test_producer_sequence_orders_records_of_one_millisecond() -> None:
    merger = Merger(TOPICS)
    add(merger, TURNS, 10, 0, seq=2)
    add(merger, TRANSFERS, 10, 0, seq=1)
    assert short(merger.release({}, 0.0)) == [(TRANSFERS, 10, 0)]  # turns then wait: a tie to come?


def test_a_frontier_equal_to_the_head_does_not_release_it() -> None:
    merger = Merger(TOPICS)
    add(merger, TURNS, 10, 0, seq=5)
    add(merger, TRANSFERS, 10, 0, seq=5)
    add(merger, TURNS, 11, 1, seq=7)
    released = short(merger.release({}, 0.0))
    assert released == [(TURNS, 10, 0), (TRANSFERS, 10, 0)]  # rank breaks the exact tie
    assert short(merger.release({}, 0.0)) == []  # turns at 11: transfers' frontier is (10, 5)
    add(merger, TRANSFERS, 12, 1, seq=9)
    assert short(merger.release({}, 0.0)) == [(TURNS, 11, 1)]
