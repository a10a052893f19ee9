"""Issue #23 (2): invoices and receipts a finance team accepts, read back from the PDF with
poppler's pdftotext: the seller and the "Bill to" of the account's profile, the issue date,
the service period (from the day service began), the payment status, every amount with its
currency, unit prices in at least the minor unit, page numbers and a table header on
every page; and the pure wording rules they are made of."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from billing import accounts, documents, pdf
from billing import operations as ops
from billing.access import OPERATOR
from billing.finalize import finalize_due
from billing.invoice_settings import InvoiceSettings
from billing.layout import INVOICE_COLUMNS, payment_status
from billing.operations import Sessions
from billing.posting import PeriodQuantities, post_once
from billing.wording import money, unit_price
from billing_meter.cli import main
from billing_meter.settings import invoice_settings
from tests.billing.helpers import ms, seed, subscribe
from tests.billing.invoices_helpers import SETTINGS, Source, pdftotext_pages

NOVEMBER = ms("2026-11-01T00:00:00+00:00")
NOV_10 = ms("2026-11-10T00:00:00+00:00")
DECEMBER = ms("2026-12-01T00:00:00+00:00")
ISSUED = DECEMBER + 3_600_000  # finalized after the grace
PROFILE = {
    "legal_name": "Acme Robotics GmbH",
    "address": "Hauptstrasse 5\n10115 Berlin",
    "country": "Germany",
    "tax_id": "DE123456789",
    "billing_email": "billing@acme.example",
}


@pytest.mark.parametrize(
    ("micros", "currency", "text"),
    [
        (100_000, "USD", "0.10"),
        (15_000_000, "USD", "15.00"),
        (12_500, "USD", "0.0125"),
        (2_500_000_000, "EUR", "2,500.00"),
        (5_000_000, "JPY", "5"),
        (500_000, "JPY", "0.5"),
    ],
)
def test_unit_prices_keep_at_least_the_minor_unit(micros: int, currency: str, text: str) -> None:
    assert unit_price(micros, currency) == text


def test_amounts_carry_their_currency_in_its_minor_unit() -> None:
    assert money(250_000, "EUR") == "2,500.00 EUR"
    assert money(-4_900, "USD") == "-49.00 USD"
    assert money(1_000, "JPY") == "1,000 JPY"


def test_payment_status_is_paid_for_prepaid_and_due_by_for_enterprise() -> None:
    assert payment_status("prepaid", ISSUED, "UTC", 30) == "Paid from prepaid balance"
    assert payment_status("enterprise", ISSUED, "UTC", 30) == "Due by Dec 31, 2026"
    assert payment_status("enterprise", ISSUED, "UTC", 0) == "Due by Dec 1, 2026"
    # the due date is a day of the subscription's zone (Dec 1 01:00 UTC is Nov 30 in LA)
    assert payment_status("enterprise", ISSUED, "America/Los_Angeles", 0) == "Due by Nov 30, 2026"


@pytest.mark.parametrize(
    ("text", "days"), [("", 30), ("0", 0), ("45", 45), ("365", 365), (" 7 ", 7)]
)
def test_payment_terms_days(text: str, days: int) -> None:
    settings = invoice_settings({"BILLING_PAYMENT_TERMS_DAYS": text})
    assert settings.payment_terms_days == days


@pytest.mark.parametrize("text", ["366", "-1", "30d", "1e2", "\u0663"])
def test_bad_payment_terms_stop_the_worker_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    monkeypatch.setenv("BILLING_PAYMENT_TERMS_DAYS", text)
    assert main(["worker"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "BILLING_PAYMENT_TERMS_DAYS" in err and "0 to 365" in err


class MonthSource(Source):
    """Quantities keyed by month like ClickHouse's (a month that began before the
    subscription is still the month its usage falls in)."""

    def period_quantities(
        self, app_id: str, start_ms: int, end_ms: int, tz: str
    ) -> PeriodQuantities:
        return super().period_quantities(app_id, NOVEMBER, end_ms, tz)


def _november_from_the_10th(sessions: Sessions, plan: str) -> str:
    """bot-1 on ``plan`` from Nov 10 (UTC) with usage, the account's profile set; the
    number of its November invoice."""
    seed(sessions, NOV_10)
    with sessions.begin() as session:
        accounts.set_profile(session, "default", dict(PROFILE))
    subscribe(sessions, "bot-1", plan, start="2026-11-10", now_ms=NOV_10)
    source = MonthSource()
    source.quantities["bot-1"] = {NOVEMBER: {"billing_sessions": 123_456, "voice_sessions": 250}}
    post_once(sessions, source, ms("2026-11-30T12:00:00+00:00"))
    [number] = finalize_due(sessions, ISSUED, SETTINGS, source)
    return number


def _words(sessions: Sessions, number: str) -> str:
    pages = pdftotext_pages(documents.invoice_pdf(sessions, OPERATOR, number))
    return re.sub(r"[ \t]+", " ", "\n".join(pages))


def test_a_prepaid_invoice_states_what_a_finance_team_checks(sessions: Sessions) -> None:
    number = _november_from_the_10th(sessions, "starter")
    text = _words(sessions, number)
    assert "From\nAcme Bots Ltd\n1 Market Street" in text  # the seller (BILLING_SELLER)
    bill_to = ["Acme Robotics GmbH", "Hauptstrasse 5", "10115 Berlin", "Germany"]
    bill_to += ["VAT/Tax ID: DE123456789", "billing@acme.example"]
    bill_to += ["Reference: bot bot-1", "Bot owner: alice"]
    assert "Bill to\n" + "\n".join(bill_to) in text
    assert "Invoice date Dec 1, 2026" in text
    assert "Service period Nov 10 \u2013 Nov 30, 2026 (UTC)" in text  # service began Nov 10
    assert "Status Paid from prepaid balance" in text
    invoice = documents.get_invoice(sessions, OPERATOR, number)
    for line in invoice["lines"]:
        assert f"{money_of(line['amount'])} USD" in text, line
    usage = next(line for line in invoice["lines"] if line["meter"] == "billing_sessions")
    assert "123,456" in text and f"0.05 {money_of(usage['amount'])} USD" in text
    assert f"Total {money_of(invoice['total'])} USD" in text
    assert "Page 1 of 1" in text


def money_of(amount: str) -> str:
    """``6121.80`` as the PDF groups it: ``6,121.80``."""
    whole, _, fraction = amount.partition(".")
    return f"{int(whole):,}.{fraction}"


def test_an_enterprise_invoice_is_due_after_the_payment_terms(sessions: Sessions) -> None:
    number = _november_from_the_10th(sessions, "corp")
    text = _words(sessions, number)
    assert "Status Due by Dec 31, 2026" in text  # Dec 1 + 30 days (the default terms)
    assert "Total due" in text and "Paid from prepaid balance" not in text


def test_a_receipt_has_no_usage_columns(sessions: Sessions) -> None:
    seed(sessions, NOV_10)
    subscribe(sessions, "bot-1", start="2026-11-10", now_ms=NOV_10)
    order = ops.add_funds(sessions, OPERATOR, "bot-1", amount="2500", key=None, now_ms=NOV_10)
    body = documents.receipt_pdf(sessions, OPERATOR, order["id"], SETTINGS)
    [page] = pdftotext_pages(body)
    text = re.sub(r"[ \t]+", " ", page)
    assert "Funds added to the prepaid balance 2,500.00 USD" in text
    assert "Total paid 2,500.00 USD" in text and "Page 1 of 1" in text
    for header in ("Quantity", "Included", "Overage", "Unit price"):
        assert header not in text


def test_without_a_seller_there_is_no_receipt(sessions: Sessions) -> None:
    seed(sessions, NOV_10)
    subscribe(sessions, "bot-1", start="2026-11-10", now_ms=NOV_10)
    order = ops.add_funds(sessions, OPERATOR, "bot-1", amount="25", key=None, now_ms=NOV_10)
    with pytest.raises(Exception, match="BILLING_SELLER is not set") as refused:
        documents.receipt_pdf(sessions, OPERATOR, order["id"], InvoiceSettings())
    assert getattr(refused.value, "status", None) == 409


def test_a_long_invoice_numbers_its_pages_and_repeats_the_table_header() -> None:
    rows = [
        (f"Adjustment {n}", f"{n:,}", "", "", "0.05", f"{n * 5 / 100:,.2f} USD")
        for n in range(1, 91)
    ]
    document = pdf.Document(
        title="Invoice",
        number="INV-2026-000042",
        issued_ms=ISSUED,
        seller=SETTINGS.seller,
        customer=("Acme Robotics GmbH",),
        facts=(("Invoice date", "Dec 1, 2026"),),
        columns=INVOICE_COLUMNS,
        rows=rows,
        total_label="Total",
        total="2,047.50 USD",
    )
    pages = pdftotext_pages(pdf.render(document))
    assert len(pages) >= 2
    header = re.compile(r"Description\s+Quantity\s+Included\s+Overage\s+Unit price\s+Amount")
    seen: list[str] = []
    for n, page in enumerate(pages, 1):
        assert f"Page {n} of {len(pages)}" in page
        assert header.search(page), f"page {n} has no table header"
        seen += re.findall(r"Adjustment (\d+)\s", page)
    assert seen == [str(n) for n in range(1, 91)]  # every row once, in order
    assert "Total 2,047.50 USD" in re.sub(r"[ \t]+", " ", pages[-1])


def test_the_sample_documents_of_the_readme_render(tmp_path: Path) -> None:
    """``make document-images``' script: an upgraded bot's invoice and its top-up's receipt."""
    script = Path(__file__).parents[2] / "deploy" / "sample_documents.py"
    subprocess.run([sys.executable, str(script), str(tmp_path)], check=True, timeout=120)
    [invoice] = pdftotext_pages((tmp_path / "invoice.pdf").read_bytes())
    text = re.sub(r"[ \t]+", " ", invoice)
    assert "Upgrade from Starter to Pro, Nov 20 \u2013 Nov 30 (11 of 30 days) 52.71 EUR" in text
    assert "Service period Nov 10 \u2013 Nov 30, 2026 (Europe/Berlin)" in text
    [receipt] = pdftotext_pages((tmp_path / "receipt.pdf").read_bytes())
    assert "2,500.00 EUR" in receipt and "Acme Robotics GmbH" in receipt
