"""Topic ``agent-transfers`` (Kafka key: ``conversation_id``)."""

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
    req_enum,
    req_id,
    req_timestamp,
)

TOPIC: Final = "agent-transfers"
DIRECTIONS: Final = frozenset({"to_agent", "to_bot"})


@dataclass(frozen=True, slots=True)
class AgentTransfer:
    """A hand-over from the bot to a human agent (``to_agent``) or back (``to_bot``)."""

    event_id: str
    app_id: str
    conversation_id: str
    channel: str
    direction: str
    agent_id: str | None
    occurred_at_ms: int


def decode(raw: bytes | str, *, now_ms: int) -> AgentTransfer:
    """Decode and validate one message value (SPEC section 1).

    The common case is checked in one expression; anything it does not accept takes
    the field-by-field path, which decides and names the reason.
    """
    obj = parse_object(raw)
    get = obj.get
    event_id, app_id, conversation_id = get("event_id"), get("app_id"), get("conversation_id")
    channel, direction, agent_id = get("channel"), get("direction"), get("agent_id")
    occurred_at_ms = fast_timestamp(get("occurred_at"), now_ms)
    if (
        occurred_at_ms is not None
        and plain_id(event_id)
        and plain_id(app_id)
        and plain_id(conversation_id)
        and plain_id(channel)
        and type(direction) is str
        and direction in DIRECTIONS
        and ((agent_id is None and direction != "to_agent") or plain_id(agent_id))
    ):
        return AgentTransfer(
            event_id, app_id, conversation_id, channel, direction, agent_id, occurred_at_ms
        )
    return _checked(obj, now_ms)


def _checked(obj: Obj, now_ms: int) -> AgentTransfer:
    direction = req_enum(obj, "direction", DIRECTIONS)
    to_agent = direction == "to_agent"
    return AgentTransfer(
        event_id=req_id(obj, "event_id"),
        app_id=req_id(obj, "app_id"),
        conversation_id=req_id(obj, "conversation_id"),
        channel=req_id(obj, "channel"),
        direction=direction,
        agent_id=req_id(obj, "agent_id") if to_agent else opt_id(obj, "agent_id"),
        occurred_at_ms=req_timestamp(obj, "occurred_at", now_ms),
    )


def encode(transfer: AgentTransfer) -> bytes:
    """Encode as the topic's JSON."""
    return orjson.dumps(
        {
            "event_id": transfer.event_id,
            "app_id": transfer.app_id,
            "conversation_id": transfer.conversation_id,
            "channel": transfer.channel,
            "direction": transfer.direction,
            "agent_id": transfer.agent_id,
            "occurred_at": format_ms(transfer.occurred_at_ms),
        }
    )
