"""Topic ``billing-agent-activity``: an agent seen in an app during a quarter-hour (SPEC 5).

The meter emits one record per (conversation, agent, quarter-hour) in which the
agent took a ``to_agent`` transfer or a turn; the sink keeps, per app, agent and UTC
day, the mask of quarter-hours the agent was active in, which gives distinct agents
per period of any time zone exactly. Kafka key: ``app_id``.
"""

from __future__ import annotations

from typing import Final

import msgspec
import orjson

from schemas.fields import ValidationError, parse_object, req_int, req_str

TOPIC: Final = "billing-agent-activity"
QUARTER_MS: Final = 15 * 60_000


class AgentActivity(msgspec.Struct, frozen=True, gc=False):
    """``agent_id`` worked for ``app_id`` in the quarter-hour starting at ``quarter_ms``."""

    app_id: str
    agent_id: str
    quarter_ms: int


def encode(activity: AgentActivity) -> bytes:
    """Encode as the topic's JSON."""
    return orjson.dumps(
        {
            "app_id": activity.app_id,
            "agent_id": activity.agent_id,
            "quarter_ms": activity.quarter_ms,
        }
    )


def decode(raw: bytes | str) -> AgentActivity:
    """Decode an agent-activity record (``hour_ms`` from an older meter is read too)."""
    obj = parse_object(raw)
    quarter_ms = req_int(obj, "quarter_ms" if "quarter_ms" in obj else "hour_ms")
    if quarter_ms % QUARTER_MS:
        raise ValidationError("quarter_ms", "bad_timestamp", "is not the start of a quarter-hour")
    return AgentActivity(
        app_id=req_str(obj, "app_id"), agent_id=req_str(obj, "agent_id"), quarter_ms=quarter_ms
    )
