"""Event files (SPEC section 7): JSON Lines, one Kafka message per line.

A file without ``timestamp`` is in processing order. A dump of the topics carries each
record's ``timestamp`` (and ``billing_seq``, ``partition``, ``offset``) and is merged
as SPEC section 2b says (:mod:`pipeline.replay`). Besides ``value`` and ``raw``, a line
may carry ``raw_base64`` (a value that is not even UTF-8 text) or ``"raw": null`` (a
record without a value, a tombstone), as ``export`` writes them.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from pipeline.core.meter import INPUT_TOPICS

#: Which value field the Kafka key comes from when a line has no ``key`` (SPEC section 1).
KEY_FIELDS = {
    "conversation-turns": "conversation_id",
    "agent-transfers": "conversation_id",
    "alert-deliveries": "app_id",
}


class EventFileError(ValueError):
    """A line that is not a message of the file format (not an invalid event)."""


@dataclass(frozen=True, slots=True)
class FileMessage:
    """One message: its 1-based line number, topic, key and exact value bytes, and where
    a dump of the topics says it was (record timestamp, ``billing-seq``, partition, offset)."""

    line: int
    topic: str
    key: bytes | None
    value: bytes | None  # None: a record without a value (a tombstone)
    timestamp: int | None = None
    seq: int | None = None
    partition: int | None = None
    offset: int | None = None


def parse_line(text: bytes, line: int, where: str = "") -> FileMessage:
    """Parse one line of an event file."""
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise EventFileError(f"{where}line {line}: not a JSON object") from None
    if not isinstance(obj, dict):
        raise EventFileError(f"{where}line {line}: not a JSON object")
    topic = obj.get("topic")
    if topic not in INPUT_TOPICS:
        raise EventFileError(f"{where}line {line}: topic must be one of {', '.join(INPUT_TOPICS)}")
    value = _value(obj, f"{where}line {line}")
    numbers = [_number(obj, name, f"{where}line {line}") for name in _NUMBERS]
    return FileMessage(line, topic, _key(obj, topic), value, *numbers)


#: The optional record coordinates of a dump's line, in ``FileMessage`` order.
_NUMBERS = ("timestamp", "billing_seq", "partition", "offset")


def _value(obj: dict[str, Any], where: str) -> bytes | None:
    if "raw" in obj:
        if obj["raw"] is None:
            return None
        if not isinstance(obj["raw"], str):
            raise EventFileError(f"{where}: 'raw' must be a string (or null: no value)")
        return str(obj["raw"]).encode()
    if "raw_base64" in obj:
        try:
            return base64.b64decode(obj["raw_base64"], validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise EventFileError(f"{where}: 'raw_base64' must be base64 text") from None
    if "value" in obj:
        return orjson.dumps(obj["value"])
    raise EventFileError(f"{where}: needs 'value' or 'raw'")


#: The range of each number of a dump's line: Kafka's signed 64-bit timestamps, offsets
#: and partitions, and the ``billing-seq`` header's unsigned 8 bytes.
_RANGES = {
    "timestamp": (-(1 << 63), 1 << 63),
    "billing_seq": (0, 1 << 64),
    "partition": (0, 1 << 31),
    "offset": (0, 1 << 63),
}


def _number(obj: dict[str, Any], name: str, where: str) -> int | None:
    number = obj.get(name)
    if number is None:
        return None
    low, high = _RANGES[name]
    if type(number) is not int or not low <= number < high:
        raise EventFileError(f"{where}: {name!r} must be an integer in [{low}, {high})")
    return number


def _key(obj: dict[str, Any], topic: str) -> bytes | None:
    key = obj.get("key")
    if key is None and isinstance(obj.get("value"), dict):
        key = obj["value"].get(KEY_FIELDS[topic])
    return key.encode() if isinstance(key, str) else None


def read_messages(stream: BinaryIO, where: str = "") -> Iterator[FileMessage]:
    """Messages of an open event file, skipping blank lines."""
    for number, text in enumerate(stream, 1):
        if text.strip():
            yield parse_line(text, number, where)


def open_event_file(path: str | Path) -> BinaryIO:
    """Open for reading; a missing file raises ``EventFileError`` with one line."""
    try:
        return Path(path).open("rb")
    except OSError as exc:
        raise EventFileError(f"{path}: {exc.strerror}") from None


def message_line(topic: str, value: Any, key: str | None = None) -> bytes:
    """One line of an event file (for generators and tests)."""
    line: dict[str, Any] = {"topic": topic}
    if key is not None:
        line["key"] = key
    if isinstance(value, (bytes, str)) and not _is_json(value):
        line["raw"] = value.decode() if isinstance(value, bytes) else value
    else:
        line["value"] = orjson.loads(value) if isinstance(value, (bytes, str)) else value
    return orjson.dumps(line) + b"\n"


def _is_json(value: bytes | str) -> bool:
    try:
        orjson.loads(value)
    except orjson.JSONDecodeError:
        return False
    return True


def dump_line(
    topic: str,
    raw: bytes | None,
    *,
    partition: int,
    offset: int,
    timestamp: int,
    seq: int,
    key: bytes | None,
) -> bytes:
    """One line of a dump of the topics (``export``), which replays to what the stream
    computed: the value as JSON where that is exactly the record's bytes (compact JSON, as
    most clients send), else those bytes as text (``raw``), else as ``raw_base64``; a
    record without a value as ``"raw": null``. So every dead letter keeps its bytes."""
    line: dict[str, Any] = {"topic": topic, "partition": partition, "offset": offset}
    line["timestamp"] = timestamp
    if seq:
        line["billing_seq"] = seq
    if key is not None:
        line["key"] = key.decode("utf-8", "replace")  # the partition above is what counts
    if raw is None:
        line["raw"] = None
        return orjson.dumps(line) + b"\n"
    value = _same_bytes_as_json(raw)
    if value is not _NOT_JSON:
        line["value"] = value
    else:
        try:
            line["raw"] = raw.decode("utf-8")
        except UnicodeDecodeError:
            line["raw_base64"] = base64.b64encode(raw).decode()
    return orjson.dumps(line) + b"\n"


_NOT_JSON = object()


def _same_bytes_as_json(raw: bytes) -> Any:
    """The value parsed as JSON if writing it back gives exactly ``raw``, else _NOT_JSON."""
    try:
        value = orjson.loads(raw)
        same = orjson.dumps(value) == raw
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
        return _NOT_JSON
    return value if same else _NOT_JSON
