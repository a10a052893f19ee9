"""Delivering stored notifications: to Kafka (``billing-notifications``, keyed by app) and
to an optional webhook, signed per Standard Webhooks and retried from the outbox.

Delivery never holds a database transaction while it talks to the network, and never
blocks posting: the posting job only writes rows. Kafka gets every notification at
least once (a crash between the broker's ack and the ``published`` mark repeats the
batch); each message carries its ``id`` for consumers to drop repeats. A webhook row is
claimed with a lease before it is sent, so two delivering processes do not send it
twice, and it is retried with exponential backoff until the endpoint answers 2xx.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import orjson
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from billing.models import Notification, WebhookDelivery

TOPIC = "billing-notifications"
LEASE_MS = 60_000
MAX_BACKOFF_MS = 3_600_000


class Publisher(Protocol):
    """Sends (key, value) records to ``billing-notifications`` and waits for the acks."""

    async def publish(self, records: list[tuple[bytes, bytes]]) -> None: ...


# (url, headers, body) -> HTTP status; raises OSError / TimeoutError when unreachable
Post = Callable[[str, dict[str, str], bytes], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class Webhook:
    """Where notifications are POSTed, the signing secret and the first retry delay."""

    url: str
    secret: bytes
    backoff_ms: int = 5_000


def decode_secret(text: str) -> bytes:
    """A Standard Webhooks secret (``whsec_`` + base64) as bytes."""
    try:
        return base64.b64decode(text.removeprefix("whsec_"), validate=True)
    except ValueError:
        raise ValueError("BILLING_WEBHOOK_SECRET must be whsec_ followed by base64") from None


def message_id(notification_id: int) -> str:
    """The id a notification has on the topic and in ``webhook-id``."""
    return f"ntf_{notification_id}"


def body_of(row: Notification) -> bytes:
    """The JSON a notification is sent as: its payload with its ``id``."""
    return orjson.dumps({"id": message_id(row.id), **orjson.loads(row.payload)})


def sign(secret: bytes, msg_id: str, timestamp_s: int, body: bytes) -> str:
    """The ``webhook-signature`` header: ``v1,`` + base64 HMAC-SHA256 of id.timestamp.body."""
    signed = f"{msg_id}.{timestamp_s}.".encode() + body
    digest = hmac.new(secret, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


async def publish_pending(
    sessions: sessionmaker[Session], publisher: Publisher, now_ms: int, limit: int = 500
) -> int:
    """Publish notifications not yet on the topic, oldest first; returns how many."""
    rows = await asyncio.to_thread(_unpublished, sessions, limit)
    if not rows:
        return 0
    await publisher.publish([(row.app_id.encode(), body_of(row)) for row in rows])
    await asyncio.to_thread(_mark_published, sessions, [row.id for row in rows], now_ms)
    return len(rows)


def _unpublished(sessions: sessionmaker[Session], limit: int) -> list[Notification]:
    with sessions() as session:
        query = select(Notification).where(Notification.published_ms.is_(None))
        return list(session.scalars(query.order_by(Notification.id).limit(limit)))


def _mark_published(sessions: sessionmaker[Session], ids: list[int], now_ms: int) -> None:
    with sessions.begin() as session:
        session.execute(
            update(Notification).where(Notification.id.in_(ids)).values(published_ms=now_ms)
        )


async def deliver_due(
    sessions: sessionmaker[Session], webhook: Webhook, post: Post, now_ms: int, limit: int = 50
) -> tuple[int, int]:
    """POST the due outbox rows; returns (delivered, failed)."""
    claimed = await asyncio.to_thread(_claim, sessions, now_ms, limit)
    delivered = failed = 0
    for row, attempts in claimed:
        body = body_of(row)
        msg_id, timestamp_s = message_id(row.id), now_ms // 1000
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp_s),
            "webhook-signature": sign(webhook.secret, msg_id, timestamp_s, body),
        }
        try:
            status = await post(webhook.url, headers, body)
            error = None if 200 <= status < 300 else f"HTTP {status}"
        except (OSError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        retry_ms = now_ms + min(webhook.backoff_ms * 2**attempts, MAX_BACKOFF_MS)
        await asyncio.to_thread(_settle, sessions, row.id, error, now_ms, retry_ms)
        delivered, failed = (delivered + 1, failed) if error is None else (delivered, failed + 1)
    return delivered, failed


def _claim(
    sessions: sessionmaker[Session], now_ms: int, limit: int
) -> list[tuple[Notification, int]]:
    with sessions.begin() as session:
        due = list(
            session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.delivered_ms.is_(None))
                .where(WebhookDelivery.next_attempt_ms <= now_ms)
                .order_by(WebhookDelivery.notification_id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        for row in due:
            row.next_attempt_ms = now_ms + LEASE_MS  # a lease: nobody else sends it meanwhile
        return [(session.get_one(Notification, row.notification_id), row.attempts) for row in due]


def _settle(
    sessions: sessionmaker[Session],
    notification_id: int,
    error: str | None,
    now_ms: int,
    retry_ms: int,
) -> None:
    with sessions.begin() as session:
        row = session.get_one(WebhookDelivery, notification_id)
        row.attempts += 1
        if error is None:
            row.delivered_ms, row.last_error = now_ms, None
        else:
            row.next_attempt_ms, row.last_error = retry_ms, error[:500]


async def http_post(url: str, headers: dict[str, str], body: bytes) -> int:
    """POST with aiohttp (10 s timeout); returns the status. Network errors raise OSError."""
    import aiohttp  # noqa: PLC0415 - only delivering processes need the HTTP client

    timeout = aiohttp.ClientTimeout(total=10)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as client,
            client.post(url, data=body, headers=headers) as response,
        ):
            return response.status
    except aiohttp.ClientError as exc:
        raise OSError(str(exc)) from exc
