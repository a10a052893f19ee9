"""Alert sessions: one per distinct delivery (SPEC sections 3 and 4)."""

from __future__ import annotations

from typing import NamedTuple

from pipeline.core.config import MeterConfig
from schemas.alert_delivery import AlertDelivery
from schemas.billing_session import BillingSession, alert_session_id


class AlertStep(NamedTuple):
    """``seen_at_ms`` is what to remember for (app_id, event_id) after this delivery."""

    seen_at_ms: int
    duplicate: bool
    session: BillingSession | None


def step_alert(seen_at_ms: int | None, alert: AlertDelivery, cfg: MeterConfig) -> AlertStep:
    """Apply one delivery, given when the same (app_id, event_id) was last seen (or None).

    A delivery whose id was seen with an ``occurred_at`` less than
    ``ALERT_DEDUP_HORIZON`` away is a duplicate and changes nothing.
    """
    at_ms = alert.occurred_at_ms
    if seen_at_ms is not None and abs(at_ms - seen_at_ms) < cfg.alert_dedup_horizon_ms:
        return AlertStep(seen_at_ms=seen_at_ms, duplicate=True, session=None)
    session = BillingSession(
        session_id=alert_session_id(alert.app_id, alert.event_id),
        kind="alert",
        app_id=alert.app_id,
        conversation_id="",
        segment=0,
        slice=0,
        channel="",
        opened_at_ms=at_ms,
    )
    return AlertStep(seen_at_ms=at_ms, duplicate=False, session=session)
