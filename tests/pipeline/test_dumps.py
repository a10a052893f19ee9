"""Dumps of the topics (SPEC 7): what ``export`` writes, how replay merges it (SPEC 2b),
what ``produce`` stamps, and the two partitioners replay can follow."""

from __future__ import annotations

import io
import zlib

import orjson
import pytest

from agents.kafka.produce import stamped
from pipeline.core.config import MeterConfig
from pipeline.core.partitioning import PARTITIONERS, crc32_partition_for
from pipeline.eventfile import EventFileError, dump_line, parse_line, read_messages
from pipeline.replay import replay
from schemas import agent_transfer, conversation_turn
from sinks.base import BatchingSink
from tests.factories import T0, transfer, turn
from tests.integration.workers import NullBackend

TURNS, TRANSFERS = conversation_turn.TOPIC, agent_transfer.TOPIC
NOW_MS = T0 + 86_400_000


def line(
    topic: str, raw: bytes, ts: int, offset: int, *, seq: int = 0, partition: int = 0
) -> bytes:
    return dump_line(
        topic,
        raw,
        partition=partition,
        offset=offset,
        timestamp=ts,
        seq=seq,
        key=b"c-1",
        now_ms=NOW_MS,
    )


def test_a_valid_value_is_written_as_json_and_read_back_to_the_same_record() -> None:
    raw = conversation_turn.encode(turn("e1", 3))
    text = line(TURNS, raw, 1_000, 42, seq=7, partition=3)
    assert orjson.loads(text)["value"]["event_id"] == "e1"
    message = parse_line(text, 1)
    assert (message.timestamp, message.seq, message.partition, message.offset) == (1000, 7, 3, 42)
    assert conversation_turn.decode(message.value, NOW_MS) == turn("e1", 3)


@pytest.mark.parametrize(
    "raw",
    [b"not json", b'{"event_id": 1}', b'{"a": 1, "a": 2}', b"\xff\xfe garbage"],
    ids=["text", "invalid-event", "duplicate-keys", "not-utf8"],
)
def test_anything_else_keeps_its_exact_bytes(raw: bytes) -> None:
    """An invalid record keeps its bytes, so its dead letter (reason and bytes) is the
    stream's."""
    record = orjson.loads(line(TURNS, raw, 1, 0))
    assert "value" not in record
    assert parse_line(line(TURNS, raw, 1, 0), 1).value == raw


def test_a_value_that_would_decode_otherwise_as_json_stays_raw() -> None:
    """Re-serializing must not change the event: spaces and key order may go, meaning not."""
    raw = b'{"event_id": "e1", "app_id": "a", "conversation_id": "c", "channel": "web",'
    raw += b' "actor": "user", "occurred_at": "2025-11-26T12:00:00Z"}'
    assert "value" in orjson.loads(line(TURNS, raw, 1, 0))  # same event, spacing aside


def dump_of(*records: tuple[str, bytes, int, int, int]) -> list[bytes]:
    return [line(topic, raw, ts, offset, seq=seq) for topic, raw, ts, offset, seq in records]


def totals(lines: list[bytes]) -> tuple[int, int, int]:
    messages = list(read_messages(io.BytesIO(b"".join(lines))))
    tally = replay(messages, BatchingSink(NullBackend()), MeterConfig(), "t", now_ms=NOW_MS)
    return tally.sessions["usage"], tally.out_of_order, tally.accepted


def test_replay_merges_a_dump_by_stamp_then_event_time_whatever_the_file_order() -> None:
    """The measured case: a transfer and the next turn (45 s later) stamped in the same
    millisecond, the turn first in the file. Merged, the transfer goes first: the turn
    is not out of order, and the bot's time stops at the transfer."""
    first = conversation_turn.encode(turn("t0", 0))
    to_agent = agent_transfer.encode(transfer("x0", 14))
    late_turn = conversation_turn.encode(turn("t1", 14.75, actor="agent"))
    back = agent_transfer.encode(transfer("x1", 20, direction="to_bot"))
    last = conversation_turn.encode(turn("t2", 21))
    lines = dump_of(
        (TURNS, first, 100, 0, 0),
        (TURNS, late_turn, 500, 1, 0),  # stamped in the transfer's millisecond
        (TURNS, last, 900, 2, 0),
        (TRANSFERS, to_agent, 500, 0, 0),
        (TRANSFERS, back, 800, 1, 0),
    )
    usage, out_of_order, accepted = totals(lines)
    assert (out_of_order, accepted) == (0, 5)
    assert usage == 1  # the bot: 14 min, then 1 min after the agent gave it back
    assert totals(lines[3:] + lines[:3]) == (usage, out_of_order, accepted)  # any file order


def test_a_file_mixing_stamped_and_unstamped_lines_is_refused() -> None:
    stamped_line = line(TURNS, conversation_turn.encode(turn("t0")), 1, 0)
    plain = orjson.dumps({"topic": TURNS, "value": orjson.loads(stamped_line)["value"]})
    with pytest.raises(EventFileError, match="line 2: a file's lines all carry"):
        totals([stamped_line, plain + b"\n"])


def test_produce_keeps_a_dumps_stamps_and_numbers_a_plain_file() -> None:
    plain = parse_line(b'{"topic": "alert-deliveries", "raw": "x"}', 9)
    assert stamped(plain, 1_234, 9) == (1_234, [("billing-seq", (9).to_bytes(8, "big"))])
    dumped = parse_line(line(TURNS, b"x", 77, 0, seq=5), 1)
    assert stamped(dumped, 1_234, 1) == (77, [("billing-seq", (5).to_bytes(8, "big"))])
    unsequenced = parse_line(line(TURNS, b"x", 77, 0), 1)
    assert stamped(unsequenced, 1_234, 1) == (77, [])


def test_crc32_is_librdkafkas_consistent_partitioner() -> None:
    # rd_crc32 is CRC-32 (IEEE 802.3), unsigned: the partition is that modulo the count
    assert crc32_partition_for(b"c-1", 6) == zlib.crc32(b"c-1") % 6
    assert zlib.crc32(b"123456789") == 0xCBF43926  # the standard check value
    assert set(PARTITIONERS) == {"murmur2", "crc32"}
