"""Topic ``conversation-turns`` (Kafka key: ``conversation_id``)."""

from __future__ import annotations

from typing import Final, Literal

import msgspec
import orjson

from schemas.fields import (
    Id,
    Obj,
    fast_timestamp,
    format_ms,
    opt_bool,
    opt_id,
    parse_object,
    req_enum,
    req_id,
    req_timestamp,
)

TOPIC: Final = "conversation-turns"
ACTORS: Final = frozenset({"user", "bot", "agent"})
Actor = Literal["user", "bot", "agent"]


class ConversationTurn(msgspec.Struct, frozen=True, gc=False):
    """One turn of a conversation, by the user, the bot or a human agent."""

    event_id: str
    app_id: str
    conversation_id: str
    channel: str
    actor: str
    agent_id: str | None
    occurred_at_ms: int
    ends_conversation: bool = False


class _Wire(msgspec.Struct, gc=False):
    """The message as msgspec decodes it, types and id lengths checked in C.

    Any mismatch takes the checked path, which decides and names the reason.
    """

    event_id: Id
    app_id: Id
    conversation_id: Id
    channel: Id
    actor: str
    occurred_at: int | str
    agent_id: Id | None = None
    ends_conversation: bool | None = None


_WIRE = msgspec.json.Decoder(_Wire)


def decode(raw: bytes | str, now_ms: int) -> ConversationTurn:
    """Decode and validate one message value (SPEC section 1).

    The common case is checked in one expression; anything it does not accept takes
    the field-by-field path, which decides and names the reason.
    """
    try:
        wire = _WIRE.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return _checked(parse_object(raw), now_ms)
    event_id, app_id, conversation_id = wire.event_id, wire.app_id, wire.conversation_id
    channel, actor, agent_id = wire.channel, wire.actor, wire.agent_id
    ends = wire.ends_conversation
    occurred_at_ms = fast_timestamp(wire.occurred_at, now_ms)
    if (
        occurred_at_ms is not None
        and event_id.isprintable()
        and app_id.isprintable()
        and conversation_id.isprintable()
        and channel.isprintable()
        and type(actor) is str
        and actor in ACTORS
        and (
            (agent_id is None and actor != "agent")
            or (agent_id is not None and agent_id.isprintable())
        )
        and (ends is None or type(ends) is bool)
    ):
        return ConversationTurn(
            event_id,
            app_id,
            conversation_id,
            channel,
            actor,
            agent_id,
            occurred_at_ms,
            ends is True,
        )
    return _checked(parse_object(raw), now_ms)


def _checked(obj: Obj, now_ms: int) -> ConversationTurn:
    actor = req_enum(obj, "actor", ACTORS)
    agent_id = req_id(obj, "agent_id") if actor == "agent" else opt_id(obj, "agent_id")
    return ConversationTurn(
        event_id=req_id(obj, "event_id"),
        app_id=req_id(obj, "app_id"),
        conversation_id=req_id(obj, "conversation_id"),
        channel=req_id(obj, "channel"),
        actor=actor,
        agent_id=agent_id,
        occurred_at_ms=req_timestamp(obj, "occurred_at", now_ms),
        ends_conversation=opt_bool(obj, "ends_conversation"),
    )


def encode(turn: ConversationTurn) -> bytes:
    """Encode as the topic's JSON (timestamps as RFC 3339 UTC strings)."""
    return orjson.dumps(
        {
            "event_id": turn.event_id,
            "app_id": turn.app_id,
            "conversation_id": turn.conversation_id,
            "channel": turn.channel,
            "actor": turn.actor,
            "agent_id": turn.agent_id,
            "occurred_at": format_ms(turn.occurred_at_ms),
            "ends_conversation": turn.ends_conversation,
        }
    )
