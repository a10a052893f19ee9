"""Topic ``agent-transfers`` (Kafka key: ``conversation_id``)."""

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
    req_enum,
    req_id,
    req_timestamp,
)

TOPIC: Final = "agent-transfers"
DIRECTIONS: Final = frozenset({"to_agent", "to_bot"})


class AgentTransfer(msgspec.Struct, frozen=True, gc=False):
    """A hand-over from the bot to a human agent (``to_agent``) or back (``to_bot``)."""

    event_id: str
    app_id: str
    conversation_id: str
    channel: str
    direction: str
    agent_id: str | None
    occurred_at_ms: int


class _Wire(msgspec.Struct, gc=False):
    """The message as msgspec decodes it, types and id lengths checked in C.

    Any mismatch takes the checked path, which decides and names the reason.
    """

    event_id: Id
    app_id: Id
    conversation_id: Id
    channel: Id
    direction: str
    occurred_at: int | str
    agent_id: Id | None = None


_WIRE = msgspec.json.Decoder(_Wire)


def decode(raw: bytes | str, now_ms: int) -> AgentTransfer:
    """Decode and validate one message value (SPEC section 1).

    The common case is checked in one expression; anything it does not accept takes
    the field-by-field path, which decides and names the reason.
    """
    try:
        wire = _WIRE.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return _checked(parse_object(raw), now_ms)
    event_id, app_id, conversation_id = wire.event_id, wire.app_id, wire.conversation_id
    channel, direction, agent_id = wire.channel, wire.direction, wire.agent_id
    occurred_at_ms = fast_timestamp(wire.occurred_at, now_ms)
    if (
        occurred_at_ms is not None
        and event_id.isprintable()
        and app_id.isprintable()
        and conversation_id.isprintable()
        and channel.isprintable()
        and type(direction) is str
        and direction in DIRECTIONS
        and (
            (agent_id is None and direction != "to_agent")
            or (agent_id is not None and agent_id.isprintable())
        )
    ):
        return AgentTransfer(
            event_id, app_id, conversation_id, channel, direction, agent_id, occurred_at_ms
        )
    return _checked(parse_object(raw), now_ms)


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
