"""The ``billing`` worker role: posting, then notification delivery, in a loop.

Each pass reads usage from the store (at most ``posting_interval_s`` apart, so a live
balance reflects sessions within 60 s of their reaching ClickHouse), posts it to the ledger
at most once per ``post_every_ms`` (the rest is the live balance's accrual), publishes new
notifications to Kafka and delivers due webhooks. A failing pass is logged and retried
on the next one: a dead webhook endpoint or a slow broker never stops posting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram

from billing import delivery, endpoints
from billing.delivery import Post, Publisher, Webhook
from billing.finalize import InvoiceSettings, finalize_due, waiting_drafts
from billing.invoice_settings import SELLER_MISSING
from billing.operations import Sessions
from billing.posting import UsageSource, post_once
from billing.rules import POST_EVERY_MS

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PostingMetrics:
    """The billing role's metrics (defined once, registered with the worker's registry)."""

    ledger_entries: Counter
    posting_seconds: Histogram
    posting_failures: Counter
    notifications_published: Counter
    webhook_deliveries: Counter
    invoices_finalized: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> PostingMetrics:
        """Register every metric in ``registry``."""
        return cls(
            ledger_entries=Counter(
                "billing_ledger_entries_total", "Usage ledger entries posted", registry=registry
            ),
            posting_seconds=Histogram(
                "billing_posting_seconds", "Duration of one posting pass", registry=registry
            ),
            posting_failures=Counter(
                "billing_posting_failures_total",
                "Passes that failed, by step",
                ["step"],
                registry=registry,
            ),
            notifications_published=Counter(
                "billing_notifications_published_total",
                "Notifications published to billing-notifications",
                registry=registry,
            ),
            webhook_deliveries=Counter(
                "billing_webhook_deliveries_total",
                "Webhook attempts by result",
                ["result"],
                registry=registry,
            ),
            invoices_finalized=Counter(
                "billing_invoices_finalized_total", "Invoices finalized", registry=registry
            ),
        )


@dataclass(slots=True)
class BillingRole:
    """The loop of the ``billing`` role."""

    sessions: Sessions
    source: UsageSource
    publisher: Publisher | None
    webhook: Webhook | None
    metrics: PostingMetrics
    interval_s: float
    invoices: InvoiceSettings = field(default_factory=InvoiceSettings)
    post_every_ms: int = POST_EVERY_MS  # usage entries at most this often (accrual: each pass)
    post: Post = delivery.http_post
    clock: Callable[[], int] = lambda: int(time.time() * 1000)
    waiting: list[tuple[str, int]] = field(default_factory=list)  # drafts held, no seller
    _told: set[int] = field(default_factory=set)  # periods whose wait was logged

    def invoice_health(self) -> dict[str, object]:
        """``/api/health``'s ``invoices``: whether drafts are finalized, and if not why."""
        if self.invoices.can_finalize:
            return {"finalizing": True}
        return {"finalizing": False, "reason": SELLER_MISSING, "waiting": len(self.waiting)}

    async def _finalize(self) -> None:
        """Finalize the due drafts; without a seller, hold them and say so once a period."""
        now = self.clock()
        if self.invoices.can_finalize:
            numbers = await asyncio.to_thread(finalize_due, self.sessions, now, self.invoices)
            self.metrics.invoices_finalized.inc(len(numbers))
            return
        self.waiting = await asyncio.to_thread(waiting_drafts, self.sessions, now, self.invoices)
        for period in sorted({start for _, start in self.waiting} - self._told):
            self._told.add(period)
            apps = sorted(app for app, start in self.waiting if start == period)
            log.warning(
                "invoices are due but not finalized",
                extra={
                    "context": {
                        "reason": SELLER_MISSING,
                        "period_start_ms": period,
                        "drafts": len(apps),
                        "apps": apps[:20],
                    }
                },
            )

    async def run(self, stopping: asyncio.Event) -> None:
        """Pass after pass until ``stopping`` is set."""
        while not stopping.is_set():
            await self.run_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self.interval_s)

    async def run_once(self) -> None:
        """One pass: post, publish, deliver. Each step's failure is logged and counted."""
        started = time.monotonic()
        try:
            result = await asyncio.to_thread(
                post_once,
                self.sessions,
                self.source,
                self.clock(),
                every_ms=self.post_every_ms,
            )
            self.metrics.ledger_entries.inc(result.entries)
        except Exception:
            self.metrics.posting_failures.labels("post").inc()
            log.exception("posting failed; retrying on the next pass")
        self.metrics.posting_seconds.observe(time.monotonic() - started)
        try:  # right after posting: the drafts due hold every session posted so far
            await self._finalize()
        except Exception:
            self.metrics.posting_failures.labels("finalize").inc()
            log.exception("finalizing invoices failed; retrying on the next pass")
        if self.publisher is not None:
            try:
                count = await delivery.publish_pending(self.sessions, self.publisher, self.clock())
                self.metrics.notifications_published.inc(count)
            except Exception:
                self.metrics.posting_failures.labels("publish").inc()
                log.exception("publishing notifications failed; retrying on the next pass")
        try:  # the accounts' own endpoints
            sent, failed = await endpoints.deliver_due(self.sessions, self.post, self.clock())
            self.metrics.webhook_deliveries.labels("delivered").inc(sent)
            self.metrics.webhook_deliveries.labels("failed").inc(failed)
        except Exception:
            self.metrics.posting_failures.labels("webhook").inc()
            log.exception("endpoint delivery failed; retrying on the next pass")
        if self.webhook is not None:
            try:
                sent, failed = await delivery.deliver_due(
                    self.sessions, self.webhook, self.post, self.clock()
                )
                self.metrics.webhook_deliveries.labels("delivered").inc(sent)
                self.metrics.webhook_deliveries.labels("failed").inc(failed)
            except Exception:
                self.metrics.posting_failures.labels("webhook").inc()
                log.exception("webhook delivery failed; retrying on the next pass")
