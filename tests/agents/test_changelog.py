"""The changelog: O(1) bytes per event, exact restore, and the earlier format read once."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents import changelog
from agents.kafka.records import Output
from pipeline.core.config import HOUR_MS, MeterConfig
from pipeline.core.meter import apply_event
from pipeline.core.state import PartitionState, event_digest
from tests.factories import at, transfer, turn

CFG = MeterConfig(state_retention_ms=2 * HOUR_MS)


def records(outputs: list[Output]) -> list[tuple[bytes, bytes | None]]:
    return [(o.key or b"", o.value) for o in outputs]


def same(a: PartitionState, b: PartitionState) -> None:
    assert a.conversations == b.conversations
    assert a.seen == b.seen
    assert a.alerts == b.alerts
    assert (a.conversation_stream_ms, a.alert_stream_ms) == (
        b.conversation_stream_ms,
        b.alert_stream_ms,
    )


def test_an_event_adds_the_same_few_bytes_however_long_its_conversation() -> None:
    """1,024 turns, a checkpoint after each (the worst case: no batching): the events of
    the second half cost no more bytes on average than those of the first, at most about
    100 bytes each, and no checkpoint writes more than one block of 16 chunks."""
    part, log, sizes = PartitionState(track_changes=True), [], []
    for i in range(1024):
        event = turn(f"turn-{i:04d}-{'x' * 20}", i * 0.25, conv="conversation-0001")
        apply_event(part, event, at(1000), CFG)
        written = changelog.changes(part, 0)  # the stream record first: once a checkpoint
        sizes.append(sum(len(o.key or b"") + len(o.value or b"") for o in written[1:]))
        log += written
    first, last = sum(sizes[:512]) / 512, sum(sizes[512:]) / 512
    assert last <= first <= 101, (first, last)
    assert max(sizes) <= 16 * changelog.BLOCK_BYTES + 250  # a block of 16, 3 tombstones, clocks
    same(changelog.restore(records(log)), part)
    chunk_keys = {k for k, v in changelog.restorer_of(records(log)).chunks.items()}
    assert len(chunk_keys) == len(changelog.layout(1024 // changelog.CHUNK)) == 8


def test_restore_after_forgetting_and_starting_afresh_in_one_checkpoint() -> None:
    part = PartitionState(track_changes=True)
    log: list[Output] = []
    for i in range(20):  # 2 full chunks and 4 ids in the clocks record
        apply_event(part, turn(f"a{i}", i, conv="c-1"), at(10_000), CFG)
    apply_event(part, turn("b0", 0, conv="c-2"), at(10_000), CFG)
    log += changelog.changes(part, 0)
    # stream time moves 3 h on: c-1 is forgotten and starts afresh with one event
    apply_event(part, turn("a-new", 181, conv="c-1"), at(10_000), CFG)
    written = changelog.changes(part, 0)
    tombstones = {o.key for o in written if o.value is None}
    assert len(tombstones) == 3  # the clocks and the two chunks of the old c-1
    log += written
    restored = changelog.restore(records(log))
    same(restored, part)
    assert len(restored.seen["app-1\x1fc-1"]) == 1


def test_alerts_and_transfers_round_trip() -> None:
    part = PartitionState(track_changes=True)
    apply_event(part, turn("t0", 0), at(100), CFG)
    apply_event(part, transfer("x0", 3, agent="agent-7"), at(100), CFG)
    apply_event(part, transfer("x1", 9, direction="to_bot"), at(100), CFG)
    log = changelog.changes(part, 0)
    same(changelog.restore(records(log)), part)


@pytest.mark.parametrize("events", [1, 8, 13])
def test_a_store_of_the_earlier_format_is_read_and_replaced_at_the_next_checkpoint(
    events: int,
) -> None:
    ids = [f"e{i}" for i in range(events)]
    live = PartitionState(track_changes=True)
    for i, event_id in enumerate(ids):
        apply_event(live, turn(event_id, i), at(100), CFG)
    state = live.conversations["app-1\x1fc-1"]
    old = [
        (b"s", b"[%d,0]" % live.conversation_stream_ms),
        (b"capp-1\x1fc-1", msgspec.json.encode((state, ids))),
    ]
    restored = changelog.restore(old)
    same(restored, live)
    assert list(restored.seen["app-1\x1fc-1"]) == [event_digest(i) for i in ids]
    rewritten = changelog.changes(restored, 0)
    assert (b"capp-1\x1fc-1", None) in records(rewritten)  # the old record is deleted
    again = changelog.restore(old + records(rewritten))
    same(again, live)
    assert again.legacy == set() and restored.legacy == set()


def test_layout_merges_four_of_a_size_into_the_next() -> None:
    assert changelog.layout(0) == []
    assert changelog.layout(3) == [(0, 1), (1, 1), (2, 1)]
    assert changelog.layout(10) == [(0, 4), (4, 4), (8, 1), (9, 1)]
    assert changelog.layout(37) == [(0, 16), (16, 16), (32, 4), (36, 1)]


@settings(max_examples=150, deadline=None)
@given(
    checkpoints=st.lists(st.integers(1, 40), min_size=1, max_size=12),
    singles_first=st.integers(0, 6),
)
def test_any_checkpoints_restore_exactly_after_the_previous_release_wrote_singles(
    checkpoints: list[int], singles_first: int
) -> None:
    """Events in runs of random lengths, a checkpoint after each run; the first runs
    written as the previous release did (every chunk alone): a restore after every
    checkpoint, and a writer that carries on from the restored state, are exact."""
    part, log, written = PartitionState(track_changes=True), [], 0
    for run, count in enumerate(checkpoints):
        for _ in range(count):
            apply_event(part, turn(f"e{written}", written * 0.1, conv="c-1"), at(1000), CFG)
            written += 1
        with pytest.MonkeyPatch.context() as patch:
            if run < singles_first:
                patch.setattr(changelog, "BLOCKS", (1,))
            log += changelog.changes(part, 0)
        restored = changelog.restore(records(log))
        same(restored, part)
        part = restored  # the next run carries on as a worker that restored would
