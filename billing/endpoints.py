"""An account's webhook endpoints (several per account, each with its own signing secret)
and their delivery, per Standard Webhooks. Rotating a secret keeps the old one signing
beside the new one until the overlap ends: ``webhook-signature`` then carries both
signatures, space-separated (``v1,<new> v1,<old>``), so receivers can switch secrets without
dropping a message. Every notification of an app goes to the endpoints of the app's account
only (``notices.notify`` queues one outbox row per endpoint).
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from billing.delivery import MAX_BACKOFF_MS, Post, body_of, decode_secret, message_id, sign
from billing.errors import InvalidError, NotFoundError
from billing.models import EndpointDelivery, Notification, WebhookEndpoint
from billing.periods import iso

LEASE_MS = 60_000
BACKOFF_MS = 5_000
MAX_OVERLAP_HOURS = 24 * 7


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` + 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def add(session: Session, account_id: int, url: str, now_ms: int) -> dict[str, Any]:
    """A new endpoint of the account; its secret is shown once."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 2000:
        raise InvalidError(f"webhook URL {url[:100]!r} must be an http(s) URL")
    endpoint = WebhookEndpoint(
        account_id=account_id, url=url, secret=new_secret(), created_ms=now_ms
    )
    session.add(endpoint)
    session.flush()
    return {"id": endpoint.id, "url": url, "secret": endpoint.secret}


def _endpoint(session: Session, endpoint_id: int) -> WebhookEndpoint:
    found = session.get(WebhookEndpoint, endpoint_id, with_for_update=True)
    if found is None or found.removed_ms is not None:
        raise NotFoundError(f"unknown webhook endpoint {endpoint_id}")
    return found


def rotate(session: Session, endpoint_id: int, overlap_hours: int, now_ms: int) -> dict[str, Any]:
    """A new secret (shown once); the old one also signs for ``overlap_hours``."""
    if not 0 <= overlap_hours <= MAX_OVERLAP_HOURS:
        raise InvalidError(f"the overlap is 0-{MAX_OVERLAP_HOURS} hours, got {overlap_hours}")
    endpoint = _endpoint(session, endpoint_id)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_until_ms = now_ms + overlap_hours * 3_600_000
    endpoint.secret = new_secret()
    return {
        "id": endpoint.id,
        "secret": endpoint.secret,
        "old_secret_signs_until": _until(endpoint),
    }


def remove(session: Session, endpoint_id: int, now_ms: int) -> dict[str, Any]:
    """The endpoint gets nothing more (its pending deliveries are dropped)."""
    endpoint = _endpoint(session, endpoint_id)
    endpoint.removed_ms = now_ms
    return {"id": endpoint.id, "removed": True}


def _until(endpoint: WebhookEndpoint) -> str | None:
    until = endpoint.previous_until_ms
    return None if endpoint.previous_secret is None or until is None else iso(until, "UTC")


def listing(session: Session, account_id: int | None) -> list[dict[str, Any]]:
    """Live endpoints (of one account, or all), without their secrets."""
    query = select(WebhookEndpoint).where(WebhookEndpoint.removed_ms.is_(None))
    if account_id is not None:
        query = query.where(WebhookEndpoint.account_id == account_id)
    return [
        {
            "id": e.id,
            "account_id": e.account_id,
            "url": e.url,
            "old_secret_signs_until": _until(e),
        }
        for e in session.scalars(query.order_by(WebhookEndpoint.id))
    ]


def queue(session: Session, notification_id: int, account_id: int | None, now_ms: int) -> None:
    """One outbox row per live endpoint of the account (``notices.notify``)."""
    if account_id is None:
        return
    live = select(WebhookEndpoint.id).where(
        WebhookEndpoint.account_id == account_id, WebhookEndpoint.removed_ms.is_(None)
    )
    for endpoint_id in session.scalars(live):
        session.add(
            EndpointDelivery(
                notification_id=notification_id, endpoint_id=endpoint_id, next_attempt_ms=now_ms
            )
        )


def signatures(endpoint: WebhookEndpoint, msg_id: str, timestamp_s: int, body: bytes) -> str:
    """``webhook-signature``: the current secret's, then the old one's during an overlap."""
    keys = [endpoint.secret]
    if endpoint.previous_secret and (endpoint.previous_until_ms or 0) > timestamp_s * 1000:
        keys.append(endpoint.previous_secret)
    return " ".join(sign(decode_secret(k), msg_id, timestamp_s, body) for k in keys)


Claimed = tuple[Notification, WebhookEndpoint, int]


def _claim(sessions: sessionmaker[Session], now_ms: int, limit: int) -> list[Claimed]:
    with sessions.begin() as session:
        due = list(
            session.scalars(
                select(EndpointDelivery)
                .where(EndpointDelivery.delivered_ms.is_(None))
                .where(EndpointDelivery.next_attempt_ms <= now_ms)
                .order_by(EndpointDelivery.notification_id, EndpointDelivery.endpoint_id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        claimed = []
        for row in due:
            endpoint = session.get_one(WebhookEndpoint, row.endpoint_id)
            if endpoint.removed_ms is not None:
                row.delivered_ms, row.last_error = now_ms, "endpoint removed"
                continue
            row.next_attempt_ms = now_ms + LEASE_MS  # a lease: nobody else sends it meanwhile
            claimed.append(
                (session.get_one(Notification, row.notification_id), endpoint, row.attempts)
            )
        return claimed


def _settle(
    sessions: sessionmaker[Session], key: tuple[int, int], error: str | None, now_ms: int
) -> None:
    with sessions.begin() as session:
        row = session.get_one(EndpointDelivery, key)
        row.attempts += 1
        if error is None:
            row.delivered_ms, row.last_error = now_ms, None
        else:
            delay = min(BACKOFF_MS * 2 ** (row.attempts - 1), MAX_BACKOFF_MS)
            row.next_attempt_ms, row.last_error = now_ms + delay, error[:500]


async def deliver_due(
    sessions: sessionmaker[Session], post: Post, now_ms: int, limit: int = 50
) -> tuple[int, int]:
    """POST the due rows to the accounts' endpoints; returns (delivered, failed)."""
    claimed = await asyncio.to_thread(_claim, sessions, now_ms, limit)
    delivered = failed = 0
    for row, endpoint, _attempts in claimed:
        body, msg_id, timestamp_s = body_of(row), message_id(row.id), now_ms // 1000
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp_s),
            "webhook-signature": signatures(endpoint, msg_id, timestamp_s, body),
        }
        try:
            status = await post(endpoint.url, headers, body)
            error = None if 200 <= status < 300 else f"HTTP {status}"
        except (OSError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        await asyncio.to_thread(_settle, sessions, (row.id, endpoint.id), error, now_ms)
        delivered, failed = (delivered + 1, failed) if error is None else (delivered, failed + 1)
    return delivered, failed
