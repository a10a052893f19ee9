"""Topic ``billing-conversations``: the summary of a conversation that ended (SPEC section 3).

Kafka key: ``app_id``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import orjson

from schemas.fields import ValidationError, format_ms, parse_object, req_int, req_str

TOPIC: Final = "billing-conversations"
CAUSES: Final = ("ended", "idle")


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    """Times (milliseconds) and sessions of one conversation segment."""

    app_id: str
    conversation_id: str
    segment: int
    channel: str
    started_at_ms: int
    ended_at_ms: int
    bot_ms: int
    agent_ms: int
    interaction_ms: int
    usage_sessions: int
    voice_sessions: int
    cause: str


def encode(summary: ConversationSummary) -> bytes:
    """Encode as the topic's JSON."""
    return orjson.dumps(
        {
            "app_id": summary.app_id,
            "conversation_id": summary.conversation_id,
            "segment": summary.segment,
            "channel": summary.channel,
            "started_at": format_ms(summary.started_at_ms),
            "started_at_ms": summary.started_at_ms,
            "ended_at_ms": summary.ended_at_ms,
            "bot_ms": summary.bot_ms,
            "agent_ms": summary.agent_ms,
            "interaction_ms": summary.interaction_ms,
            "usage_sessions": summary.usage_sessions,
            "voice_sessions": summary.voice_sessions,
            "cause": summary.cause,
        }
    )


def decode(raw: bytes | str) -> ConversationSummary:
    """Decode a conversation summary."""
    obj = parse_object(raw)
    cause = req_str(obj, "cause")
    if cause not in CAUSES:
        raise ValidationError("cause", "bad_enum", f"{cause[:40]!r} is not one of: {CAUSES}")
    ints = {
        name: req_int(obj, name)
        for name in (
            "segment",
            "started_at_ms",
            "ended_at_ms",
            "bot_ms",
            "agent_ms",
            "interaction_ms",
            "usage_sessions",
            "voice_sessions",
        )
    }
    return ConversationSummary(
        app_id=req_str(obj, "app_id"),
        conversation_id=req_str(obj, "conversation_id"),
        channel=req_str(obj, "channel"),
        cause=cause,
        **ints,
    )
