"""Topic ``alert-deliveries`` (Kafka key: ``app_id``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import orjson

from schemas.fields import (
    Obj,
    fast_timestamp,
    format_ms,
    opt_id,
    parse_object,
    plain_id,
    req_id,
    req_timestamp,
)

TOPIC: Final = "alert-deliveries"


@dataclass(frozen=True, slots=True)
class AlertDelivery:
    """One delivery of an alert (e.g. a scheduled report) to a user."""

    event_id: str
    app_id: str
    alert_id: str
    user_id: str | None
    occurred_at_ms: int


def decode(raw: bytes | str, *, now_ms: int) -> AlertDelivery:
    """Decode and validate one message value (SPEC section 1).

    The common case is checked in one expression; anything it does not accept takes
    the field-by-field path, which decides and names the reason.
    """
    obj = parse_object(raw)
    get = obj.get
    event_id, app_id, alert_id, user_id = (
        get("event_id"),
        get("app_id"),
        get("alert_id"),
        get("user_id"),
    )
    occurred_at_ms = fast_timestamp(get("occurred_at"), now_ms)
    if (
        occurred_at_ms is not None
        and plain_id(event_id)
        and plain_id(app_id)
        and plain_id(alert_id)
        and (user_id is None or plain_id(user_id))
    ):
        return AlertDelivery(event_id, app_id, alert_id, user_id, occurred_at_ms)
    return _checked(obj, now_ms)


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
