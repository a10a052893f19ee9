"""Invoices on SQLite and PostgreSQL: finalized after the grace with gapless numbers, lines
that equal the usage charged, a PDF stating the same, late usage as an adjustment on the next
invoice, and finalized invoices the database refuses to change."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from billing import documents
from billing import operations as ops
from billing.access import OPERATOR
from billing.finalize import finalize_due
from billing.operations import Sessions
from billing.posting import post_once
from tests.billing.helpers import ms
from tests.billing.invoices_helpers import NOVEMBER, OCTOBER, SETTINGS, october, pdf_text

ROOT = Path(__file__).resolve().parents[2]
AFTER_GRACE = ms("2026-11-01T01:00:00+00:00")


def test_finalized_after_the_grace_with_lines_pdf_and_number(sessions: Sessions) -> None:
    october(sessions)
    assert finalize_due(sessions, ms("2026-11-01T00:59:59+00:00"), SETTINGS) == []
    assert finalize_due(sessions, AFTER_GRACE, SETTINGS) == ["INV-2026-000001"]
    assert finalize_due(sessions, AFTER_GRACE + 60_000, SETTINGS) == []  # once
    invoice = documents.get_invoice(sessions, OPERATOR, "INV-2026-000001")
    assert (invoice["status"], invoice["period_start"], invoice["total"]) == (
        "finalized",
        "2026-10-01T00:00:00Z",
        "95.70",  # 49 + 234 x 0.05 + 50 x 0.10 + 2 x 15
    )
    lines = {line["description"]: line for line in invoice["lines"]}
    assert lines["Billing sessions (Starter)"] == {
        "kind": "usage",
        "description": "Billing sessions (Starter)",
        "meter": "billing_sessions",
        "period": "2026-10-01",
        "quantity": 1234,
        "included": 1000,
        "overage": 234,
        "unit_price": "0.05",
        "amount": "11.70",
    }
    assert lines["Starter monthly fee"]["amount"] == "49.00"
    body = documents.invoice_pdf(sessions, OPERATOR, "INV-2026-000001")
    assert hashlib.sha256(body).hexdigest() == invoice["pdf_sha256"]
    words = pdf_text(body)
    for line in invoice["lines"]:
        assert line["description"] in words and line["amount"] in words
    assert "Total 95.70 USD" in words and "INV-2026-000001" in words
    assert "Acme Bots Ltd" in words and "bot-0" in words and "Oct 1 \u2013 Oct 31, 2026" in words
    kinds = [n["kind"] for n in ops.notifications(sessions, OPERATOR, "bot-0")]
    assert "invoice.finalized" in kinds


def test_late_usage_is_an_adjustment_and_the_final_invoice_never_changes(
    sessions: Sessions,
) -> None:
    source = october(sessions)
    finalize_due(sessions, AFTER_GRACE, SETTINGS)
    before = (
        documents.get_invoice(sessions, OPERATOR, "INV-2026-000001"),
        documents.invoice_pdf(sessions, OPERATOR, "INV-2026-000001"),
    )
    source.quantities["bot-0"][OCTOBER]["billing_sessions"] += 100  # late sessions of October
    source.quantities["bot-0"][NOVEMBER] = {"billing_sessions": 10}
    post_once(sessions, source, ms("2026-11-20T00:00:00+00:00"))
    assert finalize_due(sessions, ms("2026-12-01T01:00:00+00:00"), SETTINGS) == ["INV-2026-000002"]
    after = (
        documents.get_invoice(sessions, OPERATOR, "INV-2026-000001"),
        documents.invoice_pdf(sessions, OPERATOR, "INV-2026-000001"),
    )
    assert after == before
    november = documents.get_invoice(sessions, OPERATOR, "INV-2026-000002")
    [late] = [line for line in november["lines"] if line["kind"] == "adjustment"]
    assert (late["description"], late["period"], late["quantity"], late["amount"]) == (
        "Late billing sessions of 2026-10 (Starter)",
        "2026-10-01",
        100,
        "5.00",
    )
    assert november["total"] == "54.00"  # 49.00 fee + 5.00 late October usage
    assert "Late billing sessions of 2026-10 (Starter)" in pdf_text(
        documents.invoice_pdf(sessions, OPERATOR, "INV-2026-000002")
    )


TAMPERING = [
    "UPDATE invoices SET total_minor = 0 WHERE status = 'finalized'",
    "UPDATE invoices SET status = 'draft' WHERE status = 'finalized'",
    "DELETE FROM invoices WHERE status = 'finalized'",
    "UPDATE invoice_lines SET amount_minor = 0",
    "DELETE FROM invoice_lines",
    "INSERT INTO invoice_lines (invoice_id, position, kind, description, amount_minor) "
    "SELECT id, 99, 'adjustment', 'sneaky', -100 FROM invoices WHERE status = 'finalized'",
    "DELETE FROM invoiced_entries",
]


@pytest.mark.parametrize("statement", TAMPERING)
def test_the_database_refuses_to_change_a_finalized_invoice(
    sessions: Sessions, statement: str
) -> None:
    october(sessions)
    finalize_due(sessions, AFTER_GRACE, SETTINGS)
    before = documents.get_invoice(sessions, OPERATOR, "INV-2026-000001")
    with pytest.raises(DatabaseError, match="immutable"), sessions.begin() as session:
        session.execute(text(statement))
    assert documents.get_invoice(sessions, OPERATOR, "INV-2026-000001") == before


def test_racing_finalizers_give_one_invoice_and_gapless_numbers(
    db_url: str, sessions: Sessions
) -> None:
    october(sessions, apps=8)
    code = (
        "import sys; from billing import db; from billing.finalize import finalize_due; "
        "from tests.billing.invoices_helpers import SETTINGS; "
        "print(len(finalize_due(db.open_store(sys.argv[1]), int(sys.argv[2]), SETTINGS)))"
    )
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", code, db_url, str(AFTER_GRACE)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(3)
    ]
    outputs = [r.communicate(timeout=120) for r in racers]
    assert all(r.returncode == 0 for r in racers), [o[1][-1500:] for o in outputs]
    assert sum(int(o[0]) for o in outputs) == 8
    numbers = sorted(
        i["number"] for i in documents.list_invoices(sessions, OPERATOR, None) if i["number"]
    )
    assert numbers == [f"INV-2026-{n:06d}" for n in range(1, 9)]


def test_upgrades_are_prorated_lines(sessions: Sessions) -> None:
    source = october(sessions)
    ops.add_funds(
        sessions, OPERATOR, "bot-0", amount="500", key=None, now_ms=ms("2026-10-16T00:00:00+00:00")
    )
    ops.change_plan(sessions, OPERATOR, "bot-0", "pro", ms("2026-10-16T00:00:00+00:00"))
    post_once(sessions, source, ms("2026-10-31T12:00:00+00:00"))
    finalize_due(sessions, AFTER_GRACE, SETTINGS)
    invoice = documents.get_invoice(sessions, OPERATOR, "INV-2026-000001")
    kinds = {line["kind"]: line for line in invoice["lines"]}
    assert kinds["proration"]["amount"] == "25.81"  # 50.00 x 16/31 days of October
    usage = [line for line in invoice["lines"] if line["kind"] == "usage"]
    assert [u["included"] for u in usage] == [5000, 0, 0]  # pro's, for the whole period


def test_receipts_and_orders(sessions: Sessions) -> None:
    october(sessions)
    order = ops.add_funds(
        sessions,
        OPERATOR,
        "bot-0",
        amount="120.50",
        key="r1",
        now_ms=ms("2026-10-05T00:00:00+00:00"),
    )
    body = documents.receipt_pdf(sessions, OPERATOR, order["id"], SETTINGS)
    assert body == documents.receipt_pdf(sessions, OPERATOR, order["id"], SETTINGS)
    assert "120.50" in pdf_text(body) and f"RCT-{order['id']:06d}" in pdf_text(body)
    orders = documents.list_orders(sessions, OPERATOR, "bot-0")
    assert orders[0]["receipt"] == f"/api/orders/{order['id']}/receipt.pdf"
    assert (orders[0]["kind"], orders[0]["amount"], orders[0]["requested_by"]) == (
        "topup",
        "120.50",
        "operator",
    )
