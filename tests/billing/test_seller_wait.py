"""Issue #23 (2): without ``BILLING_SELLER`` the billing role finalizes nothing: due drafts
stay drafts, it logs why once per period (not once per pass), and its health says so; with
a seller the same drafts are finalized."""

from __future__ import annotations

import asyncio
import logging

import pytest
from prometheus_client import CollectorRegistry

from agents.billing_role import BillingRole, PostingMetrics
from billing import documents
from billing.access import OPERATOR
from billing.invoice_settings import SELLER_MISSING, InvoiceSettings
from billing.operations import Sessions
from billing.posting import post_once
from tests.billing.helpers import ms
from tests.billing.invoices_helpers import NOVEMBER, OCTOBER, SETTINGS, Source, october

DECEMBER = ms("2026-12-01T00:00:00+00:00")
GRACE = 3_600_000


def role(
    sessions: Sessions, source: Source, settings: InvoiceSettings, now: list[int]
) -> BillingRole:
    return BillingRole(
        sessions,
        source,
        None,
        None,
        PostingMetrics.create(CollectorRegistry()),
        1.0,
        invoices=settings,
        clock=lambda: now[0],
    )


def waits(caplog: pytest.LogCaptureFixture) -> list[int]:
    """The period of each "not finalized" warning logged so far."""
    return [
        r.context["period_start_ms"]  # type: ignore[attr-defined]
        for r in caplog.records
        if r.getMessage() == "invoices are due but not finalized"
    ]


def statuses(sessions: Sessions) -> list[str]:
    return [i["status"] for i in documents.list_invoices(sessions, OPERATOR, None)]


def test_drafts_wait_for_a_seller_and_the_wait_is_told_once_a_period(
    sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    source = october(sessions, apps=2)
    now = [NOVEMBER + GRACE]
    waiting = role(sessions, source, InvoiceSettings(), now)
    caplog.set_level(logging.WARNING, logger="agents.billing_role")
    for _ in range(3):  # three passes: one warning
        asyncio.run(waiting._finalize())
    assert waits(caplog) == [OCTOBER]
    assert waiting.invoice_health() == {
        "finalizing": False,
        "reason": SELLER_MISSING,
        "waiting": 2,
    }
    assert set(statuses(sessions)) == {"draft"}
    post_once(sessions, source, ms("2026-11-30T12:00:00+00:00"))  # November's drafts
    now[0] = DECEMBER + GRACE  # November falls due too: told once more, for November only
    for _ in range(2):
        asyncio.run(waiting._finalize())
    assert waits(caplog) == [OCTOBER, NOVEMBER]
    assert waiting.invoice_health()["waiting"] == 4
    finalizing = role(sessions, source, SETTINGS, now)
    asyncio.run(finalizing._finalize())
    assert finalizing.invoice_health() == {"finalizing": True}
    assert statuses(sessions).count("finalized") == 4
