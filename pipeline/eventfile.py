"""Event files (SPEC section 7): JSON Lines, one Kafka message per line, in processing order."""

from __future__ import annotations

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
    """One message: its 1-based line number, topic, key and exact value bytes."""

    line: int
    topic: str
    key: bytes | None
    value: bytes


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
    if "raw" in obj:
        if not isinstance(obj["raw"], str):
            raise EventFileError(f"{where}line {line}: 'raw' must be a string")
        value = obj["raw"].encode()
    elif "value" in obj:
        value = orjson.dumps(obj["value"])
    else:
        raise EventFileError(f"{where}line {line}: needs 'value' or 'raw'")
    return FileMessage(line, topic, _key(obj, topic), value)


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
