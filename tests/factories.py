"""Event factories for tests: times are minutes (floats) after T0 unless given in ms."""

from __future__ import annotations

from pipeline.core.config import MINUTE_MS
from schemas.agent_transfer import AgentTransfer
from schemas.alert_delivery import AlertDelivery
from schemas.conversation_turn import ConversationTurn

T0 = 1_764_158_400_000  # 2025-11-26T12:00:00Z


def at(minutes: float) -> int:
    """T0 plus ``minutes``, in epoch ms."""
    return T0 + round(minutes * MINUTE_MS)


def turn(
    event_id: str,
    minutes: float = 0,
    *,
    actor: str = "user",
    app: str = "app-1",
    conv: str = "c-1",
    channel: str = "web",
    agent: str | None = None,
    ends: bool = False,
    ms: int | None = None,
) -> ConversationTurn:
    """A conversation turn."""
    return ConversationTurn(
        event_id,
        app,
        conv,
        channel,
        actor,
        agent if agent or actor != "agent" else "agent-1",
        at(minutes) if ms is None else ms,
        ends,
    )


def transfer(
    event_id: str,
    minutes: float = 0,
    *,
    direction: str = "to_agent",
    agent: str | None = "agent-1",
    app: str = "app-1",
    conv: str = "c-1",
    channel: str = "web",
    ms: int | None = None,
) -> AgentTransfer:
    """An agent transfer."""
    return AgentTransfer(
        event_id,
        app,
        conv,
        channel,
        direction,
        agent if direction == "to_agent" else None,
        at(minutes) if ms is None else ms,
    )


def alert(
    event_id: str, minutes: float = 0, *, app: str = "app-1", alert_id: str = "report-1"
) -> AlertDelivery:
    """An alert delivery."""
    return AlertDelivery(event_id, app, alert_id, "user-1", at(minutes))
