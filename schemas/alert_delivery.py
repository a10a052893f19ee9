"""Topic ``alert-deliveries`` (Kafka key: ``app_id``)."""

from __future__ import annotations

from typing import Final

import msgspec
import orjson

from schemas.fields import (
    Id,
    Obj,
    fast_timestamp,
    format_ms,
    opt_id,
    parse_object,
    req_id,
    req_timestamp,
)

TOPIC: Final = "alert-deliveries"


class AlertDelivery(msgspec.Struct, frozen=True, gc=False):
    """One delivery of an alert (e.g. a scheduled report) to a user."""

    event_id: str
    app_id: str
    alert_id: str
    user_id: str | None
    occurred_at_ms: int


class _Wire(msgspec.Struct, gc=False):
    """The message as msgspec decodes it, types and id lengths checked in C.

    Any mismatch takes the checked path, which decides and names the reason.
    """

    event_id: Id
    app_id: Id
    alert_id: Id
    occurred_at: int | str
    user_id: Id | None = None


_WIRE = msgspec.json.Decoder(_Wire)


def decode(raw: bytes | str, now_ms: int) -> AlertDelivery:
    """Decode and validate one message value (SPEC section 1).

    The common case is checked in one expression; anything it does not accept takes
    the field-by-field path, which decides and names the reason.
    """
    try:
        wire = _WIRE.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return _checked(parse_object(raw), now_ms)
    event_id, app_id, alert_id, user_id = wire.event_id, wire.app_id, wire.alert_id, wire.user_id
    occurred_at_ms = fast_timestamp(wire.occurred_at, now_ms)
    if (
        occurred_at_ms is not None
        and event_id.isprintable()
        and app_id.isprintable()
        and alert_id.isprintable()
        and (user_id is None or user_id.isprintable())
    ):
        return AlertDelivery(event_id, app_id, alert_id, user_id, occurred_at_ms)
    return _checked(parse_object(raw), now_ms)


def _checked(obj: Obj, now_ms: int) -> AlertDelivery:
    return AlertDelivery(
        event_id=req_id(obj, "event_id"),
        app_id=req_id(obj, "app_id"),
        alert_id=req_id(obj, "alert_id"),
        user_id=opt_id(obj, "user_id"),
        occurred_at_ms=req_timestamp(obj, "occurred_at", now_ms),
    )


def encode(alert: AlertDelivery) -> bytes:
    """Encode as the topic's JSON."""
    return orjson.dumps(
        {
            "event_id": alert.event_id,
            "app_id": alert.app_id,
            "alert_id": alert.alert_id,
            "user_id": alert.user_id,
            "occurred_at": format_ms(alert.occurred_at_ms),
        }
    )
