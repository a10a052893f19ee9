"""Topic ``billing-agent-activity``: an agent seen in an app during an hour (SPEC section 5).

The meter emits one record per (conversation, agent, hour) in which the agent
took a ``to_agent`` transfer or a turn; the sink keeps distinct agents per
period. Kafka key: ``app_id``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import orjson

from schemas.fields import parse_object, req_int, req_str

TOPIC: Final = "billing-agent-activity"


@dataclass(frozen=True, slots=True)
class AgentActivity:
    """``agent_id`` worked for ``app_id`` in the hour starting at ``hour_ms``."""

    app_id: str
    agent_id: str
    hour_ms: int


def encode(activity: AgentActivity) -> bytes:
    """Encode as the topic's JSON."""
    return orjson.dumps(
        {
            "app_id": activity.app_id,
            "agent_id": activity.agent_id,
            "hour_ms": activity.hour_ms,
        }
    )


def decode(raw: bytes | str) -> AgentActivity:
    """Decode an agent-activity record."""
    obj = parse_object(raw)
    return AgentActivity(
        app_id=req_str(obj, "app_id"),
        agent_id=req_str(obj, "agent_id"),
        hour_ms=req_int(obj, "hour_ms"),
    )
