"""Topic ``billing-dead-letters``: invalid input, kept whole with the reason (SPEC section 1).

The value is a JSON envelope: the original bytes (``raw_base64`` always, and
``raw`` as text when they are UTF-8), where they came from and why they were
rejected. Kafka key: the original key.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Final

import orjson

from schemas.fields import ValidationError, parse_object, req_int, req_str

TOPIC: Final = "billing-dead-letters"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An invalid message: where it came from, why, and its exact bytes.

    ``source`` is ``kafka`` for the streaming workers and ``file:NAME`` for an
    offline replay, where ``partition`` is -1 and ``offset`` the file's line number.
    """

    source: str
    source_topic: str
    partition: int
    offset: int
    reason_code: str
    field: str | None
    reason: str
    raw: bytes

    @classmethod
    def from_error(
        cls,
        error: ValidationError,
        *,
        source: str,
        topic: str,
        partition: int,
        offset: int,
        raw: bytes,
    ) -> DeadLetter:
        """Build from the validation error that rejected ``raw``."""
        return cls(
            source=source,
            source_topic=topic,
            partition=partition,
            offset=offset,
            reason_code=error.code,
            field=error.field,
            reason=error.reason,
            raw=raw,
        )


def encode(letter: DeadLetter) -> bytes:
    """Encode the envelope."""
    try:
        text: str | None = letter.raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    return orjson.dumps(
        {
            "source": letter.source,
            "source_topic": letter.source_topic,
            "partition": letter.partition,
            "offset": letter.offset,
            "reason_code": letter.reason_code,
            "field": letter.field,
            "reason": letter.reason,
            "raw": text,
            "raw_base64": base64.b64encode(letter.raw).decode("ascii"),
        }
    )


def decode(raw: bytes | str) -> DeadLetter:
    """Decode the envelope."""
    obj = parse_object(raw)
    try:
        original = base64.b64decode(req_str(obj, "raw_base64"), validate=True)
    except binascii.Error:
        raise ValidationError("raw_base64", "wrong_type", "is not valid base64") from None
    field = obj.get("field")
    return DeadLetter(
        source=req_str(obj, "source"),
        source_topic=req_str(obj, "source_topic"),
        partition=req_int(obj, "partition"),
        offset=req_int(obj, "offset"),
        reason_code=req_str(obj, "reason_code"),
        field=field if isinstance(field, str) else None,
        reason=req_str(obj, "reason"),
        raw=original,
    )
