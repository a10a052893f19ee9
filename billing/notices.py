"""Recording notifications (BILLING-SPEC §5): once per occurrence, with an outbox row.

A notification is written in the transaction that causes it, under a key naming the
occurrence, so a retried or concurrent job cannot emit it twice. Delivery (Kafka and
the webhook) happens later from these rows: see ``billing.delivery``.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import endpoints
from billing.models import AppAccount, Notification, WebhookDelivery
from billing.periods import iso

KINDS = (
    "balance.low",
    "balance.depleted",
    "balance.recovered",
    "plan.expiring",
    "plan.expired",
    "plan.changed",
    "plan.downgrade_scheduled",
    "extension.requested",
    "extension.approved",
    "extension.rejected",
    "owner.changed",
    "invoice.finalized",
)


def notify(
    session: Session, *, key: str, app_id: str, kind: str, data: dict[str, Any], now_ms: int
) -> bool:
    """Record the notification ``key`` unless it exists; True if it is new."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    if session.scalar(select(Notification.id).where(Notification.key == key)) is not None:
        return False
    placed = session.get(AppAccount, app_id)  # whose it is: consumers route per account
    account_id = None if placed is None else placed.account_id
    payload = {
        "type": kind,
        "timestamp": iso(now_ms),
        "data": {"app_id": app_id, "account_id": account_id, **data},
    }
    row = Notification(
        key=key,
        app_id=app_id,
        kind=kind,
        payload=orjson.dumps(payload).decode(),
        created_ms=now_ms,
    )
    session.add(row)
    session.flush()
    session.add(WebhookDelivery(notification_id=row.id, attempts=0, next_attempt_ms=now_ms))
    endpoints.queue(session, row.id, account_id, now_ms)  # the account's own endpoints
    return True
