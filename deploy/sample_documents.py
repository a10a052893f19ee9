"""A sample invoice and receipt as PDFs (``make document-images`` turns them into the PNGs
of the README): a bot of Acme Robotics on Starter from Nov 10, 2026, upgraded to Pro on
Nov 20 with a month of usage, its November invoice finalized on Dec 1; and the receipt of
its top-up. Built in a throw-away SQLite store with the same code the worker runs.

Usage: python deploy/sample_documents.py OUT_DIR  (writes invoice.pdf and receipt.pdf)
"""

from __future__ import annotations

import sys
import tempfile
from datetime import datetime
from pathlib import Path

from billing import accounts, db, documents
from billing import operations as ops
from billing.access import OPERATOR
from billing.catalog import PlanSpec
from billing.finalize import finalize_due
from billing.invoice_settings import InvoiceSettings
from billing.posting import PeriodQuantities, post_once

SELLER = InvoiceSettings(seller=("Demo Bots GmbH", "Musterstrasse 1", "10115 Berlin", "Germany"))
PROFILE = {
    "legal_name": "Acme Robotics GmbH",
    "address": "Hauptstrasse 5\n80331 Munich",
    "country": "Germany",
    "tax_id": "DE123456789",
    "billing_email": "billing@acme.example",
}


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


NOVEMBER = ms("2026-11-01T00:00:00+01:00")  # the month in Berlin, the bot's zone


class November:
    """November's usage of the sample bot, as ClickHouse would report it."""

    def period_quantities(
        self,
        app_id: str,  # noqa: ARG002 - the UsageSource protocol's signature
        start_ms: int,
        end_ms: int,
        tz: str,  # noqa: ARG002
    ) -> PeriodQuantities:
        usage = {"billing_sessions": 48_210, "voice_sessions": 1_350, "agents": 3}
        return {NOVEMBER: usage} if start_ms < end_ms else {}


def plan(code: str, name: str, fee: str, billing_price: str) -> PlanSpec:
    return PlanSpec(
        code=code,
        name=name,
        currency="EUR",
        fee=fee,
        included={"billing_sessions": "10000", "voice_sessions": "500", "agents": "2"},
        prices={"billing_sessions": billing_price, "voice_sessions": "0.10", "agents": "15"},
    )


def build(url: str) -> tuple[ops.Sessions, str, int]:
    """The sample store; the invoice's number and the top-up's order id."""
    sessions = db.open_store(url)
    start = ms("2026-11-10T09:00:00+00:00")
    ops.add_user(sessions, OPERATOR, "maria", "owner", start)
    with sessions.begin() as session:
        accounts.set_profile(session, accounts.DEFAULT_ACCOUNT, dict(PROFILE))
    ops.add_plan(sessions, OPERATOR, plan("starter", "Starter", "49.00", "0.0125"), start)
    ops.add_plan(sessions, OPERATOR, plan("pro", "Pro", "199.00", "0.01"), start)
    ops.subscribe(
        sessions, OPERATOR, app_id="support-bot", plan="starter", owner="maria",
        start="2026-11-10", tz="Europe/Berlin", low_balance=None, now_ms=start,
    )  # fmt: skip
    order = ops.add_funds(
        sessions, OPERATOR, "support-bot", amount="2500.00", key=None, now_ms=start
    )
    post_once(sessions, November(), ms("2026-11-19T12:00:00+00:00"))
    ops.change_plan(sessions, OPERATOR, "support-bot", "pro", ms("2026-11-20T10:00:00+00:00"))
    [number] = finalize_due(sessions, ms("2026-12-01T02:00:00+00:00"), SELLER, November())
    return sessions, number, int(order["id"])


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        sessions, number, order = build(f"sqlite:///{work}/sample.db")
        (out / "invoice.pdf").write_bytes(documents.invoice_pdf(sessions, OPERATOR, number))
        receipt = documents.receipt_pdf(sessions, OPERATOR, order, SELLER)
        (out / "receipt.pdf").write_bytes(receipt)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
