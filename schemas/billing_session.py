"""Topic ``billing-sessions``: one session-boundary event per opened session (SPEC section 3).

Kafka key: ``app_id`` so that each app's sessions stay partition-ordered downstream.
"""

from __future__ import annotations

from typing import Final

import msgspec
import orjson

from schemas.fields import ValidationError, format_ms, parse_object, req_int, req_str

TOPIC: Final = "billing-sessions"
KINDS: Final = ("usage", "voice", "alert")


class BillingSession(msgspec.Struct, frozen=True, gc=False):
    """A session opened: usage or voice slice of a conversation, or one alert delivery."""

    session_id: str
    kind: str
    app_id: str
    conversation_id: str
    segment: int
    slice: int
    channel: str
    opened_at_ms: int


def conversation_session_id(  # noqa: PLR0917 - the id's six parts, in the id's order
    app_id: str, conversation_id: str, segment: int, started_ms: int, kind: str, slice_: int
) -> str:
    """``{app_id}/{conversation_id}/{segment}@{started_ms}/{kind}/{slice}``.

    The segment's start makes a conversation that was forgotten and started afresh at
    segment 0 (SPEC section 2a) open new ids, never ones it opened before.
    """
    return f"{app_id}/{conversation_id}/{segment}@{started_ms}/{kind}/{slice_}"


def alert_session_id(app_id: str, event_id: str) -> str:
    """``{app_id}/alert/{event_id}``."""
    return f"{app_id}/alert/{event_id}"


def to_dict(session: BillingSession) -> dict[str, object]:
    """The JSON form (``opened_at`` as RFC 3339 UTC, ``opened_at_ms`` as integer)."""
    return {
        "session_id": session.session_id,
        "kind": session.kind,
        "app_id": session.app_id,
        "conversation_id": session.conversation_id,
        "segment": session.segment,
        "slice": session.slice,
        "channel": session.channel,
        "opened_at": format_ms(session.opened_at_ms),
        "opened_at_ms": session.opened_at_ms,
    }


def encode(session: BillingSession) -> bytes:
    """Encode as the topic's JSON."""
    return orjson.dumps(to_dict(session))


def decode(raw: bytes | str) -> BillingSession:
    """Decode a session-boundary event."""
    obj = parse_object(raw)
    kind = req_str(obj, "kind")
    if kind not in KINDS:
        raise ValidationError("kind", "bad_enum", f"{kind[:40]!r} is not one of: {KINDS}")
    return BillingSession(
        session_id=req_str(obj, "session_id"),
        kind=kind,
        app_id=req_str(obj, "app_id"),
        conversation_id=req_str(obj, "conversation_id"),
        segment=req_int(obj, "segment"),
        slice=req_int(obj, "slice"),
        channel=req_str(obj, "channel"),
        opened_at_ms=req_int(obj, "opened_at_ms"),
    )
