"""Invoices (BILLING-SPEC §6): a draft per subscription and period, finalized after the
period's end plus a grace time with a gapless number, its lines, its PDF and the PDF's
sha256. Ledger entries billed on an invoice are recorded, so usage that reaches ClickHouse
after a period was finalized is billed on the next invoice as an adjustment naming its period.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing.models import (
    Invoice,
    InvoicedEntry,
    InvoiceLine,
    LedgerEntry,
    PeriodPlan,
    PeriodUsage,
    Plan,
    Subscription,
)
from billing.periods import iso, local_date
from billing.rules import METERS

MAX_DESCRIPTION = 60
METER_NAMES = {
    "billing_sessions": "Billing sessions",
    "voice_sessions": "Voice sessions",
    "agents": "Agents",
}


@dataclass(frozen=True, slots=True)
class Line:
    """One invoice line; amounts are charges (positive), in minor units."""

    kind: str
    description: str
    amount_minor: int
    meter: str | None = None
    period_start_ms: int | None = None
    quantity: int | None = None
    included: int | None = None
    overage: int | None = None
    unit_price_micros: int | None = None


def clip(text: str) -> str:
    """Descriptions fit one line of the PDF (and the JSON says exactly the same)."""
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 3] + "..."


def ensure_draft(
    session: Session, subscription: Subscription, period: PeriodPlan, now_ms: int
) -> Invoice:
    """The invoice of ``period``, created as a draft if it does not exist yet."""
    invoice = session.scalar(
        select(Invoice).where(
            Invoice.subscription_id == subscription.id,
            Invoice.period_start_ms == period.period_start_ms,
        )
    )
    if invoice is None:
        plan = session.get_one(Plan, period.plan_id)
        invoice = Invoice(
            subscription_id=subscription.id,
            app_id=subscription.app_id,
            period_start_ms=period.period_start_ms,
            period_end_ms=period.period_end_ms,
            currency=plan.currency,
            status="draft",
            created_ms=now_ms,
        )
        session.add(invoice)
        session.flush()
    return invoice


def unbilled(session: Session, subscription: Subscription, up_to_ms: int) -> list[LedgerEntry]:
    """Ledger charges of periods up to ``up_to_ms`` not yet on a finalized invoice."""
    billed = select(InvoicedEntry.ledger_entry_id)
    return list(
        session.scalars(
            select(LedgerEntry)
            .where(
                LedgerEntry.subscription_id == subscription.id,
                LedgerEntry.period_start_ms.is_not(None),
                LedgerEntry.period_start_ms <= up_to_ms,
                LedgerEntry.kind != "topup",
                LedgerEntry.id.not_in(billed),
            )
            .order_by(LedgerEntry.id)
        )
    )


def compute_lines(
    session: Session, subscription: Subscription, invoice: Invoice
) -> tuple[list[Line], list[int]]:
    """The invoice's lines and the ledger entries they bill."""
    entries = unbilled(session, subscription, invoice.period_start_ms)
    own = [e for e in entries if e.period_start_ms == invoice.period_start_ms]
    late = [e for e in entries if e.period_start_ms != invoice.period_start_ms]
    plan_row = session.get(PeriodPlan, (subscription.id, invoice.period_start_ms))
    plan = session.get_one(Plan, plan_row.plan_id if plan_row else subscription.plan_id)
    lines: list[Line] = []
    fee = -sum(e.amount_minor for e in own if e.kind == "fee")
    if fee or plan.fee_minor:
        lines.append(Line("fee", clip(f"{plan.name} monthly fee"), fee))
    usage = session.get(PeriodUsage, (subscription.id, invoice.period_start_ms))
    for meter in METERS:
        quantity = getattr(usage, meter) if usage else 0
        included = getattr(plan, f"included_{meter}")
        amount = -sum(e.amount_minor for e in own if e.kind == "usage" and e.meter == meter)
        lines.append(
            Line(
                "usage",
                METER_NAMES[meter],
                amount,
                meter,
                invoice.period_start_ms,
                quantity,
                included,
                max(0, quantity - included),
                getattr(plan, f"price_{meter}"),
            )
        )
    lines.extend(
        Line(e.kind, clip(e.reason), -e.amount_minor)
        for e in own
        if e.kind in ("proration", "adjustment")
    )
    lines.extend(_late_lines(session, subscription, late))
    return lines, [e.id for e in entries]


def _late_lines(
    session: Session, subscription: Subscription, late: list[LedgerEntry]
) -> list[Line]:
    by_key: dict[tuple[int, str | None, str], int] = defaultdict(int)
    for entry in late:
        if entry.period_start_ms is None:  # not a period's charge (unbilled() excludes them)
            continue
        by_key[(entry.period_start_ms, entry.meter, entry.kind)] += -entry.amount_minor
    lines = []
    for (period, meter, kind), amount in sorted(
        by_key.items(), key=lambda k: (k[0][0], str(k[0][1]))
    ):
        month = local_date(period, subscription.time_zone).strftime("%Y-%m")
        if meter is None:
            lines.append(Line("adjustment", clip(f"Late {kind} of {month}"), amount, None, period))
            continue
        usage = session.get(PeriodUsage, (subscription.id, period))
        stored = getattr(usage, meter) if usage else 0
        delta = stored - _invoiced_quantity(session, subscription, period, meter)
        name = METER_NAMES[meter]
        lines.append(
            Line(
                "adjustment",
                clip(f"Late usage: {name.lower()} of {month}"),
                amount,
                meter,
                period,
                delta,
            )
        )
    return lines


def _invoiced_quantity(
    session: Session, subscription: Subscription, period: int, meter: str
) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(InvoiceLine.quantity), 0))
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(
            Invoice.subscription_id == subscription.id,
            InvoiceLine.meter == meter,
            InvoiceLine.period_start_ms == period,
        )
    )
    return int(total or 0)


def period_label(invoice: Invoice, tz: str) -> str:
    """``2026-11-01 to 2026-12-01 (Asia/Kolkata)``."""
    return (
        f"{iso(invoice.period_start_ms, tz)[:10]} to {iso(invoice.period_end_ms, tz)[:10]} ({tz})"
    )
