"""Event files (SPEC section 7): JSON Lines, one Kafka message per line.

A file without ``timestamp`` is in processing order. A dump of the topics carries each
record's ``timestamp`` (and ``billing_seq``, ``partition``, ``offset``) and is merged
as SPEC section 2b says (:mod:`pipeline.replay`). Besides ``value`` and ``raw``, a line
may carry ``raw_base64``: a value that is not even UTF-8 text, as ``export`` writes it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from pipeline.core.meter import INPUT_TOPICS, decode_event
from schemas.fields import ValidationError

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
    value: bytes
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


def _value(obj: dict[str, Any], where: str) -> bytes:
    if "raw" in obj:
        if not isinstance(obj["raw"], str):
            raise EventFileError(f"{where}: 'raw' must be a string")
        return str(obj["raw"]).encode()
    if "raw_base64" in obj:
        try:
            return base64.b64decode(obj["raw_base64"], validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise EventFileError(f"{where}: 'raw_base64' must be base64 text") from None
    if "value" in obj:
        return orjson.dumps(obj["value"])
    raise EventFileError(f"{where}: needs 'value' or 'raw'")


def _number(obj: dict[str, Any], name: str, where: str) -> int | None:
    number = obj.get(name)
    if number is None:
        return None
    if type(number) is not int or not 0 <= number < 1 << 63:
        raise EventFileError(f"{where}: {name!r} must be a non-negative 64-bit integer")
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
    raw: bytes,
    *,
    partition: int,
    offset: int,
    timestamp: int,
    seq: int,
    key: bytes | None,
    now_ms: int,
) -> bytes:
    """One line of a dump of the topics (``export``), which replays to what the stream
    computed: a valid event's value as JSON where it decodes to the same event as the
    record's bytes, anything else as those bytes (``raw``, else ``raw_base64``), so an
    invalid record keeps its reason and its dead letter its exact bytes."""
    line: dict[str, Any] = {"topic": topic, "partition": partition, "offset": offset}
    line["timestamp"] = timestamp
    if seq:
        line["billing_seq"] = seq
    if key is not None:
        line["key"] = key.decode("utf-8", "replace")  # the partition above is what counts
    value = _same_event_as_json(topic, raw, now_ms)
    if value is not None:
        line["value"] = value
    else:
        try:
            line["raw"] = raw.decode("utf-8")
        except UnicodeDecodeError:
            line["raw_base64"] = base64.b64encode(raw).decode()
    return orjson.dumps(line) + b"\n"


def _same_event_as_json(topic: str, raw: bytes, now_ms: int) -> Any:
    """The value parsed as JSON if re-serializing it decodes to the same valid event."""
    try:
        event = decode_event(topic, raw, now_ms)
        value = orjson.loads(raw)
        again = decode_event(topic, orjson.dumps(value), now_ms)
    except (ValidationError, orjson.JSONDecodeError, orjson.JSONEncodeError):
        return None
    return value if again == event else None
