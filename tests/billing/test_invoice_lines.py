"""Issue #23 (1): every fee, usage and proration line names, by name, the plan version that
charged the ledger entries it bills, through an upgrade and a scheduled downgrade, in the
JSON and in the PDF's text (poppler's pdftotext); entries written before migration 0007
(no plan version) are worded the same from what the store holds."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry
from sqlalchemy import select

from billing import documents, ledger
from billing import operations as ops
from billing.access import OPERATOR
from billing.finalize import finalize_due
from billing.models import Invoice, InvoicedEntry, LedgerEntry, Plan
from billing.operations import Sessions
from billing.posting import post_once
from tests.billing.helpers import ms, seed, starter, subscribe
from tests.billing.invoices_helpers import SETTINGS, Source, pdftotext_pages
from web.billing_api import BillingApi
from web.server import create_app

TZ = "Asia/Kolkata"
DECEMBER = ms("2026-12-01T00:00:00+05:30")
JANUARY = ms("2027-01-01T00:00:00+05:30")
UPGRADE_AT = ms("2026-12-07T10:00:00+05:30")
PRORATION = "Upgrade from Basic to Growth Plan, Dec 7 \u2013 Dec 31 (25 of 31 days)"


def _upgraded_then_downgraded(sessions: Sessions) -> None:
    """bot-1 on basic from Dec 1 (Kolkata), upgraded to growth on Dec 7, a downgrade back
    to basic scheduled for Jan 1; December's and January's invoices finalized."""
    seed(sessions, ms("2026-11-20T00:00:00+00:00"))
    for spec in (
        starter("basic", name="Basic", fee="19.00"),
        starter("growth", name="Growth Plan", fee="59.00"),
    ):
        ops.add_plan(sessions, OPERATOR, spec, ms("2026-11-20T00:00:00+00:00"))
    subscribe(sessions, "bot-1", "basic", start="2026-12-01", tz=TZ, now_ms=DECEMBER)
    source = Source()
    # usage charged by basic; voice costs the same on both plans, so no later entry of it
    source.quantities["bot-1"] = {DECEMBER: {"billing_sessions": 1500, "voice_sessions": 300}}
    post_once(sessions, source, ms("2026-12-05T00:00:00+00:00"))
    ops.add_funds(sessions, OPERATOR, "bot-1", amount="500.00", key=None, now_ms=UPGRADE_AT)
    ops.change_plan(sessions, OPERATOR, "bot-1", "growth", UPGRADE_AT)
    ops.change_plan(sessions, OPERATOR, "bot-1", "basic", UPGRADE_AT + 60_000)  # scheduled
    source.quantities["bot-1"][DECEMBER]["billing_sessions"] = 2600
    post_once(sessions, source, ms("2026-12-20T00:00:00+00:00"))
    source.quantities["bot-1"][JANUARY] = {"billing_sessions": 1200}
    assert finalize_due(sessions, JANUARY + 3_600_000, SETTINGS, source) == ["INV-2026-000001"]
    february = ms("2027-02-01T01:00:00+05:30")
    assert finalize_due(sessions, february, SETTINGS, source) == ["INV-2027-000001"]


def _billed(sessions: Sessions, number: str) -> list[tuple[str, str | None, str, int]]:
    """(kind, meter, the name of the plan that charged it, amount) of each entry billed."""
    with sessions() as session:
        rows = session.execute(
            select(LedgerEntry.kind, LedgerEntry.meter, Plan.name, LedgerEntry.amount_minor)
            .join(InvoicedEntry, InvoicedEntry.ledger_entry_id == LedgerEntry.id)
            .join(Invoice, Invoice.id == InvoicedEntry.invoice_id)
            .join(Plan, Plan.id == LedgerEntry.plan_id)
            .where(Invoice.number == number)
            .order_by(LedgerEntry.id)
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]


def _check_against_ledger(invoice: dict[str, Any], billed: list[Any], period_plan: str) -> None:
    """Each line names exactly the plans of the entries it bills, and adds them up; a
    usage line names the period's plan, whose terms its entries add up to."""
    names = {"Basic", "Growth Plan"}
    for line in invoice["lines"]:
        if line["kind"] not in ("fee", "usage", "proration"):
            continue
        mine = [b for b in billed if b[0] == line["kind"] and b[1] == line["meter"]]
        if line["kind"] == "fee":  # one fee line per plan that charged one
            mine = [b for b in mine if line["description"].startswith(b[2])]
        charged = {b[2] for b in mine}
        named = {n for n in names if n in line["description"]}
        if line["kind"] == "proration":
            assert charged <= named, line
        elif line["kind"] == "usage":
            # each posting brings the period's charge to what the period's plan makes it (an
            # upgrade's terms apply to the whole period), even where an entry was written
            # under the plan before it (voice: the same price on both)
            assert named == {period_plan}, line
        elif mine:
            assert named == charged, line
        total = -sum(b[3] for b in mine)
        assert line["amount"] == f"{total / 100:.2f}", line


def _check_pdf(sessions: Sessions, invoice: dict[str, Any]) -> None:
    body = documents.invoice_pdf(sessions, OPERATOR, invoice["number"])
    text = "\n".join(pdftotext_pages(body))
    for line in invoice["lines"]:
        assert line["description"] in text
        assert f"{line['amount']} USD" in text
    assert f"{invoice['total']} USD" in text
    for code in ("basic ", "growth "):  # plans by name, never by code
        assert code not in text


def _over_http(sessions: Sessions, number: str) -> Any:
    """``GET /api/invoices/{number}`` over a real socket, as the admin token."""
    api = BillingApi(sessions, "invoice-lines-token", clock=lambda: JANUARY)
    app = create_app(CollectorRegistry(), dict, None, api)

    async def get() -> Any:
        headers = {"Authorization": "Bearer invoice-lines-token"}
        async with TestClient(TestServer(app)) as client:
            response = await client.get(f"/api/invoices/{number}", headers=headers)
            assert response.status == 200
            return await response.json()

    return asyncio.run(get())


def test_lines_name_the_plan_that_charged_them(sessions: Sessions) -> None:
    _upgraded_then_downgraded(sessions)
    december = documents.get_invoice(sessions, OPERATOR, "INV-2026-000001")
    descriptions = [line["description"] for line in december["lines"]]
    assert descriptions[0] == "Basic monthly fee"  # charged Dec 1, before the upgrade
    assert "Billing sessions (Growth Plan)" in descriptions  # its prices apply to December
    assert PRORATION in descriptions
    assert "Voice sessions (Growth Plan)" in descriptions  # its entry was basic's, same price
    _check_against_ledger(december, _billed(sessions, "INV-2026-000001"), "Growth Plan")
    january = documents.get_invoice(sessions, OPERATOR, "INV-2027-000001")
    assert [line["description"] for line in january["lines"]][:2] == [
        "Basic monthly fee",
        "Billing sessions (Basic)",
    ]
    _check_against_ledger(january, _billed(sessions, "INV-2027-000001"), "Basic")
    for invoice in (december, january):
        _check_pdf(sessions, invoice)
        assert _over_http(sessions, invoice["number"]) == invoice  # the API's JSON is this
    entries = ops.ledger(sessions, OPERATOR, "bot-1")
    assert [e["reason"] for e in entries if e["kind"] == "proration"] == [PRORATION]


def test_entries_without_a_plan_version_are_worded_alike(
    sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entries as written before 0007: no plan version on them, codes in the order."""
    append = ledger.append

    def as_before_0007(*args: Any, **kwargs: Any) -> Any:
        kwargs["plan_id"] = None
        return append(*args, **kwargs)

    monkeypatch.setattr(ledger, "append", as_before_0007)
    _upgraded_then_downgraded(sessions)
    with sessions() as session:
        assert (
            session.scalar(select(LedgerEntry.plan_id).where(LedgerEntry.plan_id.is_not(None)))
            is None
        )
    december = documents.get_invoice(sessions, OPERATOR, "INV-2026-000001")
    descriptions = [line["description"] for line in december["lines"]]
    assert descriptions[0] == "Basic monthly fee"
    assert "Billing sessions (Growth Plan)" in descriptions and PRORATION in descriptions
    january = documents.get_invoice(sessions, OPERATOR, "INV-2027-000001")
    assert january["lines"][0]["description"] == "Basic monthly fee"
