"""SPEC 2b's merge: the pure order replay uses, and the meter's holding rules around it."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core.meter import decode_or_error
from pipeline.core.ordering import Merge, Position, never, position
from pipeline.partition import Admitted, StreamMerge
from pipeline.spine import Message as Record
from tests.factories import T0

TURNS, TRANSFERS = "conversation-turns", "agent-transfers"
NOW_MS = T0 + 3_600_000
FAR = 20 * 3_600_000  # occurred_at 19 h after the worker clock: valid, far in the future


def record(topic: str, ts: int, offset: int, *, seq: int = 0, occurred: int = 0) -> Admitted:
    body = {
        "event_id": f"{topic[0]}{offset}",
        "app_id": "app-1",
        "conversation_id": "c-1",
        "channel": "web",
        "occurred_at": T0 + occurred,
    }
    if topic == TURNS:
        body["actor"] = "user"
    else:
        body |= {"direction": "to_agent", "agent_id": "a-1"}
    r = Record(topic, 0, offset, ts, b"c-1", orjson.dumps(body), seq)
    return Admitted(r, decode_or_error(topic, r.value, NOW_MS))


def short(released: list[Admitted]) -> list[tuple[str, int]]:
    return [(a.record.topic, a.record.offset) for a in released]


def test_the_smaller_head_goes_first_while_both_topics_have_records() -> None:
    merge = StreamMerge(3.0)
    for offset, ts in enumerate((10, 20, 30)):
        merge.add(record(TURNS, ts, offset), 0.0)
    merge.add(record(TRANSFERS, 15, 0), 0.0)
    assert short(merge.release({}, 0.0)) == [(TURNS, 0), (TRANSFERS, 0)]
    assert merge.first_held(TURNS) == 1 and merge.held() == 2  # transfers may still come
    merge.add(record(TRANSFERS, 25, 1), 0.0)
    assert short(merge.release({}, 0.0)) == [(TURNS, 1), (TRANSFERS, 1)]


def test_what_a_topic_delivered_before_says_nothing_of_its_next_record() -> None:
    """No frontier shortcut: a transfer stamped 40 does not let a turn stamped 20 pass,
    since the next transfer may be stamped 15 (another producer, a slower clock)."""
    merge = StreamMerge(3.0)
    merge.add(record(TRANSFERS, 40, 0), 0.0)
    merge.add(record(TURNS, 50, 0), 0.0)
    assert short(merge.release({}, 0.0)) == [(TRANSFERS, 0)]
    merge.add(record(TURNS, 20, 1), 0.0)  # behind turn 50: still waits for it
    assert short(merge.release({}, 0.0)) == []
    merge.add(record(TRANSFERS, 15, 1), 0.0)
    assert short(merge.release({}, 0.0)) == [(TRANSFERS, 1)]


def test_records_of_one_topic_keep_their_offset_order_whatever_their_timestamps() -> None:
    merge = StreamMerge(3.0)
    merge.add(record(TURNS, 30, 0), 0.0)
    merge.add(record(TURNS, 10, 1), 0.0)  # an earlier timestamp at a later offset
    merge.add(record(TRANSFERS, 40, 0), 0.0)
    assert short(merge.release({}, 0.0)) == [(TURNS, 0), (TURNS, 1)]


def test_within_a_millisecond_the_event_time_decides_whichever_client_produced() -> None:
    """The measured case: a transfer and the next turn stamped in the same millisecond,
    no ``billing-seq`` header. The turn happened 45 s later, so the transfer goes first."""
    merge = StreamMerge(3.0)
    merge.add(record(TURNS, 1000, 7, occurred=45_000), 0.0)
    merge.add(record(TRANSFERS, 1000, 3, occurred=0), 0.0)
    merge.add(record(TRANSFERS, 1001, 4, occurred=46_000), 0.0)
    assert short(merge.release({}, 0.0)) == [(TRANSFERS, 3), (TURNS, 7)]


def test_billing_seq_comes_before_event_time_and_the_topic_breaks_an_exact_tie() -> None:
    merge = StreamMerge(3.0)
    merge.add(record(TURNS, 10, 0, seq=2, occurred=0), 0.0)
    merge.add(record(TRANSFERS, 10, 0, seq=1, occurred=9_000), 0.0)
    assert short(merge.release({}, 0.0)) == [(TRANSFERS, 0)]
    merge.add(record(TRANSFERS, 10, 1, seq=2, occurred=0), 0.0)
    assert short(merge.release({}, 0.0)) == [(TURNS, 0)]  # the same position: turns first


def test_an_invalid_record_stands_at_event_time_zero() -> None:
    bad = Record(TRANSFERS, 0, 0, 10, b"c-1", b"not json", 0)
    merge = StreamMerge(3.0)
    merge.add(record(TURNS, 10, 0, occurred=5), 0.0)
    merge.add(Admitted(bad, decode_or_error(bad.topic, bad.value, NOW_MS)), 0.0)
    assert merge.merge.queues[1][0].at == Position(10, 0, 0, 1, 0)
    assert short(merge.release({}, 0.0)) == [(TRANSFERS, 0)]


def test_an_idle_topic_releases_only_as_of_a_fetch_a_hold_after_the_record() -> None:
    merge = StreamMerge(1.0)
    merge.add(record(TURNS, 10, 0), 5.0)
    assert short(merge.release({TRANSFERS: 5.5}, now_s=5.5)) == []  # not held long
    assert short(merge.release({}, now_s=9.0)) == []  # transfers not known to be caught up
    # read to its end, but as of a fetch from before the hold ended: may be stale
    assert short(merge.release({TRANSFERS: 5.9}, now_s=9.0)) == []
    assert short(merge.release({TRANSFERS: 6.0}, now_s=6.0)) == [(TURNS, 0)]


def test_a_far_future_event_time_holds_nothing_beyond_the_hold() -> None:
    """A turn dated 19 h ahead (valid: within a day of the clock) at the head of turns:
    transfers stamped in the same millisecond go before it, later ones after it, and
    alone it waits one hold."""
    merge = StreamMerge(1.0)
    merge.add(record(TURNS, 10, 0, occurred=FAR), 0.0)
    merge.add(record(TRANSFERS, 10, 0, occurred=1), 0.0)
    merge.add(record(TRANSFERS, 11, 1, occurred=2), 0.0)
    assert short(merge.release({}, 0.0)) == [(TRANSFERS, 0), (TURNS, 0)]
    merge.add(record(TURNS, 12, 1, occurred=FAR), 0.5)
    assert short(merge.release({}, 0.6)) == [(TRANSFERS, 1)]
    assert short(merge.release({TRANSFERS: 1.5}, 1.5)) == [(TURNS, 1)]


STAMPS = st.tuples(
    st.integers(0, 4),  # timestamps from a few milliseconds: many ties
    st.integers(0, 2),  # billing-seq, often 0 (no header)
    st.integers(0, 60_000),  # occurred_at
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(STAMPS, max_size=25),
    st.lists(STAMPS, max_size=25),
    st.lists(st.integers(0, 1), max_size=60),
    st.lists(st.integers(1, 5), max_size=60),
)
def test_any_arrival_order_streams_to_the_order_replay_computes(
    turns: list[tuple[int, int, int]],
    transfers: list[tuple[int, int, int]],
    which: list[int],
    sizes: list[int],
) -> None:
    """Records of each topic arrive in offset order, in fetches of any size and any
    interleaving of the two topics; as long as no hold runs out, the meter releases
    exactly the order replay computes from the whole dump."""
    sources = {
        TURNS: [record(TURNS, t, i, seq=s, occurred=o) for i, (t, s, o) in enumerate(turns)],
        TRANSFERS: [
            record(TRANSFERS, t, i, seq=s, occurred=o) for i, (t, s, o) in enumerate(transfers)
        ],
    }
    replay: Merge[Admitted] = Merge()
    for admitted in [*sources[TURNS], *sources[TRANSFERS]]:
        r = admitted.record
        replay.push(position(r.topic, r.ts_ms, r.seq, admitted.occurred_ms, r.offset), admitted)
    expected = short(replay.drain())

    merge, streamed = StreamMerge(3.0), []
    pending = {topic: list(records) for topic, records in sources.items()}
    for pick, size in zip(which, sizes, strict=False):
        topic = (TURNS, TRANSFERS)[pick]
        for admitted in pending[topic][:size]:
            merge.add(admitted, 0.0)
        del pending[topic][:size]
        streamed += merge.release({}, 0.0)
    for topic in (TURNS, TRANSFERS):
        for admitted in pending[topic]:
            merge.add(admitted, 0.0)
    streamed += merge.release({}, 0.0)
    streamed += merge.release({TURNS: 10.0, TRANSFERS: 10.0}, 10.0)  # both idle at the end
    assert short(streamed) == expected
    assert merge.held() == 0


def test_the_pure_merge_releases_nothing_while_a_topic_may_still_deliver() -> None:
    merge: Merge[str] = Merge()
    merge.push(position(TURNS, 5, 0, 0, 0), "t0")
    assert merge.release(never) == []
    merge.push(position(TRANSFERS, 6, 0, 0, 0), "x0")
    assert merge.release(never) == ["t0"]
    assert merge.drain() == ["x0"]
