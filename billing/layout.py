"""What an invoice's and a receipt's PDF state (``billing.pdf`` draws them): the seller,
"Bill to" from the account's billing profile, the issue date, the days of service in the
subscription's zone, the payment status, and every amount with its currency."""

from __future__ import annotations

from sqlalchemy.orm import Session

from billing import pdf
from billing.accounts import bill_to
from billing.invoice_settings import InvoiceSettings
from billing.invoicing import Line, period_plan, service_period
from billing.models import Invoice, Order, Subscription, User
from billing.periods import DAY_MS, local_date
from billing.rules import ENTERPRISE
from billing.wording import day_with_year, money, unit_price

INVOICE_COLUMNS = (
    pdf.Column("Description", 70, "L"),
    pdf.Column("Quantity", 18),
    pdf.Column("Included", 18),
    pdf.Column("Overage", 18),
    pdf.Column("Unit price", 26),
    pdf.Column("Amount", 40),
)
RECEIPT_COLUMNS = (pdf.Column("Description", 150, "L"), pdf.Column("Amount", 40))
PAID_FROM_BALANCE = "Paid from prepaid balance"


def payment_status(kind: str, issued_ms: int, tz: str, terms_days: int) -> str:
    """``Paid from prepaid balance`` (prepaid: the ledger already charged the balance), or
    ``Due by Dec 31, 2026`` (enterprise: ``terms_days`` after the issue date)."""
    if kind != ENTERPRISE:
        return PAID_FROM_BALANCE
    return f"Due by {day_with_year(local_date(issued_ms + terms_days * DAY_MS, tz))}"


def invoice_document(
    session: Session,
    subscription: Subscription,
    invoice: Invoice,
    lines: list[Line],
    final: tuple[str, int, int],
    *,
    settings: InvoiceSettings,
) -> pdf.Document:
    """What the PDF of ``invoice`` states: the same lines and total as its JSON."""
    number, total, issued_ms = final
    tz, currency = subscription.time_zone, invoice.currency
    plan = period_plan(session, subscription, invoice.period_start_ms)
    owner = session.get_one(User, subscription.owner_id)
    return pdf.Document(
        title="Invoice",
        number=number,
        issued_ms=issued_ms,
        seller=settings.seller,
        customer=bill_to(session, subscription, owner),
        facts=(
            ("Invoice date", day_with_year(local_date(issued_ms, tz))),
            ("Service period", f"{service_period(invoice, subscription)} ({tz})"),
            ("Plan", plan.name),
            ("Status", payment_status(plan.kind, issued_ms, tz, settings.payment_terms_days)),
        ),
        columns=INVOICE_COLUMNS,
        rows=[row_of(line, currency) for line in lines],
        total_label="Total due" if plan.kind == ENTERPRISE else "Total",
        total=money(total, currency),
    )


def row_of(line: Line, currency: str) -> tuple[str, ...]:
    """A line as the PDF prints it (empty cells where a line has no quantity)."""

    def count(value: int | None) -> str:
        return "" if value is None else f"{value:,}"

    price = "" if line.unit_price_micros is None else unit_price(line.unit_price_micros, currency)
    return (
        line.description,
        count(line.quantity),
        count(line.included),
        count(line.overage),
        price,
        money(line.amount_minor, currency),
    )


def receipt_document(
    session: Session, subscription: Subscription, order: Order, settings: InvoiceSettings
) -> pdf.Document:
    """A paid top-up's receipt: what was paid, when and by whom (no usage columns)."""
    owner = session.get_one(User, subscription.owner_id)
    amount = money(order.amount_minor or 0, order.currency)
    return pdf.Document(
        title="Receipt",
        number=f"RCT-{order.id:06d}",
        issued_ms=order.created_ms,
        seller=settings.seller,
        customer=bill_to(session, subscription, owner),
        facts=(
            ("Date paid", day_with_year(local_date(order.created_ms, subscription.time_zone))),
            ("Order", str(order.id)),
            ("Added by", order.requested_by),
            ("Status", "Paid"),
        ),
        columns=RECEIPT_COLUMNS,
        rows=[("Funds added to the prepaid balance", amount)],
        total_label="Total paid",
        total=amount,
    )
