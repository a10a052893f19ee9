"""Event files (SPEC section 7)."""

from __future__ import annotations

import io

import orjson
import pytest

from pipeline.eventfile import EventFileError, message_line, parse_line, read_messages


def test_value_raw_and_keys() -> None:
    lines = io.BytesIO(
        b'{"topic": "conversation-turns", "value": {"conversation_id": "c-1", "x": 1}}\n'
        b"\n"
        b'{"topic": "alert-deliveries", "raw": "not json at all"}\n'
        b'{"topic": "alert-deliveries", "key": "k", "value": {"app_id": "a"}}\n'
    )
    first, second, third = read_messages(lines)
    assert (first.line, first.topic, first.key) == (1, "conversation-turns", b"c-1")
    assert orjson.loads(first.value) == {"conversation_id": "c-1", "x": 1}
    assert (second.line, second.key, second.value) == (3, None, b"not json at all")
    assert third.key == b"k"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"garbage", "not a JSON object"),
        (b'{"topic": "other", "value": {}}', "topic must be one of"),
        (b'{"topic": "agent-transfers"}', "needs 'value' or 'raw'"),
        (b'{"topic": "agent-transfers", "raw": 5}', "'raw' must be a string"),
    ],
)
def test_malformed_lines(line: bytes, message: str) -> None:
    with pytest.raises(EventFileError, match=f"f: line 7: {message}"):
        parse_line(line, 7, "f: ")


def test_message_line_round_trip() -> None:
    raw = message_line("alert-deliveries", b"oops")
    assert parse_line(raw, 1).value == b"oops"
    value = message_line("agent-transfers", {"conversation_id": "c"})
    assert parse_line(value, 1).key == b"c"
