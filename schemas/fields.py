"""Field-level validation shared by the topic schemas (SPEC section 1)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Final, TypeGuard

import msgspec
import orjson

MIN_TIMESTAMP_MS: Final = 946_684_800_000  # 2000-01-01T00:00:00Z
MAX_FUTURE_MS: Final = 24 * 3_600_000  # accepted skew ahead of the worker clock
MAX_ID_LENGTH: Final = 256

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS: Final = timedelta(milliseconds=1)
_RFC3339: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})"
)
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]")

#: Reason codes, stable because they are metric labels and dead-letter reasons.
REASON_CODES: Final = (
    "invalid_json",
    "not_an_object",
    "missing_field",
    "null_field",
    "wrong_type",
    "bad_enum",
    "bad_id",
    "bad_timestamp",
    "timestamp_too_old",
    "timestamp_in_future",
)

Obj = dict[str, Any]


class ValidationError(ValueError):
    """An invalid event: names the field (or None for the whole message) and why."""

    def __init__(self, field: str | None, code: str, detail: str) -> None:
        self.field = field
        self.code = code
        self.detail = detail
        super().__init__(self.reason)

    @property
    def reason(self) -> str:
        """Human-readable reason, e.g. ``field 'actor': 'robot' is not one of ...``."""
        if self.field is None:
            return self.detail
        return f"field '{self.field}': {self.detail}"


def parse_object(raw: bytes | str) -> Obj:
    """Parse one message value; it must be a JSON object."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValidationError(None, "invalid_json", f"not valid JSON ({exc.msg})") from None
    if not isinstance(value, dict):
        kind = type(value).__name__
        raise ValidationError(None, "not_an_object", f"a JSON object is required, got {kind}")
    return value


def _present(obj: Obj, name: str) -> Any:
    if name not in obj:
        raise ValidationError(name, "missing_field", "required field is missing")
    value = obj[name]
    if value is None:
        raise ValidationError(name, "null_field", "required field is null")
    return value


def _check_id(name: str, value: Any) -> str:
    if type(value) is not str:
        raise ValidationError(name, "wrong_type", f"must be a string, got {_json_type(value)}")
    if not value or len(value) > MAX_ID_LENGTH:
        raise ValidationError(name, "bad_id", f"must be 1 to {MAX_ID_LENGTH} characters long")
    if not value.isprintable() and _CONTROL.search(value):
        raise ValidationError(name, "bad_id", "must not contain control characters")
    return value


def req_id(obj: Obj, name: str) -> str:
    """A required id: a non-empty string, at most 256 characters, no control characters."""
    value = obj.get(name)
    if plain_id(value):
        return value
    return _check_id(name, _present(obj, name))


def opt_id(obj: Obj, name: str) -> str | None:
    """An optional id: absent or null gives None."""
    value = obj.get(name)
    return None if value is None else _check_id(name, value)


def req_enum(obj: Obj, name: str, allowed: frozenset[str]) -> str:
    """A required string out of a closed set."""
    value = _present(obj, name)
    if type(value) is not str:
        raise ValidationError(name, "wrong_type", f"must be a string, got {_json_type(value)}")
    if value not in allowed:
        choices = ", ".join(sorted(allowed))
        raise ValidationError(name, "bad_enum", f"{value[:40]!r} is not one of: {choices}")
    return value


def opt_bool(obj: Obj, name: str) -> bool:
    """An optional boolean, false when absent or null."""
    value = obj.get(name)
    if value is None:
        return False
    if type(value) is not bool:
        raise ValidationError(name, "wrong_type", f"must be a boolean, got {_json_type(value)}")
    return value


def req_timestamp(obj: Obj, name: str, now_ms: int) -> int:
    """A required timestamp as epoch milliseconds (UTC), checked against the worker clock."""
    value = _present(obj, name)
    if type(value) is int:
        ms = value
    elif type(value) is str:
        ms = parse_rfc3339_ms(name, value)
    else:
        raise ValidationError(
            name,
            "wrong_type",
            f"must be an RFC 3339 string or integer epoch milliseconds, got {_json_type(value)}",
        )
    if ms < MIN_TIMESTAMP_MS:
        raise ValidationError(name, "timestamp_too_old", "is before 2000-01-01T00:00:00Z")
    if ms > now_ms + MAX_FUTURE_MS:
        raise ValidationError(
            name, "timestamp_in_future", "is more than 24h after the worker clock"
        )
    return ms


def fast_timestamp(value: object, now_ms: int) -> int | None:
    """The epoch ms of a valid timestamp in a common form, else None (then use the checked path).

    The common forms are an integer in range and the encoders' RFC 3339 UTC text
    (``2026-11-26T12:00:00.250Z``). Anything else, valid or not, gives None, so that
    :func:`req_timestamp` decides it and names the reason.
    """
    if type(value) is int:
        return value if MIN_TIMESTAMP_MS <= value <= now_ms + MAX_FUTURE_MS else None
    if not (
        type(value) is str
        and len(value) == 24  # the canonical form: 2026-11-26T12:00:00.250Z
        and value[23] == "Z"
        and value[19] == "."
        and value[10] == "T"
        and value[4] == value[7] == "-"
        and value[:4].isdigit()
        and value[20:23].isdigit()
    ):
        return None
    try:
        ms = (datetime.fromisoformat(value) - _EPOCH) // _ONE_MS
    except ValueError:
        return None
    return ms if MIN_TIMESTAMP_MS <= ms <= now_ms + MAX_FUTURE_MS else None


#: An id as the decoders' fast path types it: a string of 1 to 256 characters (checked
#: in C by msgspec); the fast path then checks it is printable.
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ID_LENGTH)]


def plain_id(value: object) -> TypeGuard[str]:
    """True for an id that passes :func:`req_id` without a closer look."""
    return type(value) is str and 0 < len(value) <= MAX_ID_LENGTH and value.isprintable()


def parse_rfc3339_ms(name: str, text: str) -> int:
    """Parse an RFC 3339 timestamp with a zone to epoch milliseconds (sub-ms truncated)."""
    if _RFC3339.fullmatch(text) is None:
        raise ValidationError(name, "bad_timestamp", f"{text[:40]!r} is not an RFC 3339 timestamp")
    try:
        moment = datetime.fromisoformat(text.upper())
    except ValueError:
        raise ValidationError(name, "bad_timestamp", f"{text[:40]!r} is not a valid date") from None
    return (moment - _EPOCH) // _ONE_MS


def format_ms(ms: int) -> str:
    """Epoch milliseconds as RFC 3339 UTC with milliseconds: ``2026-11-26T12:00:00.250Z``."""
    moment = _EPOCH + timedelta(milliseconds=ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _json_type(value: Any) -> str:
    names = {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "array",
        dict: "object",
    }
    return names.get(type(value), type(value).__name__)


def req_int(obj: Obj, name: str) -> int:
    """A required JSON integer (booleans are not integers)."""
    value = _present(obj, name)
    if type(value) is not int:
        raise ValidationError(name, "wrong_type", f"must be an integer, got {_json_type(value)}")
    return value


def req_str(obj: Obj, name: str) -> str:
    """A required string, possibly empty (for internal records)."""
    value = _present(obj, name)
    if type(value) is not str:
        raise ValidationError(name, "wrong_type", f"must be a string, got {_json_type(value)}")
    return value
