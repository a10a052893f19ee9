"""Invoices (BILLING-SPEC §6): a draft per subscription and period, finalized after the
period's end plus a grace time with a gapless number, its lines, its PDF and the PDF's
sha256. Ledger entries billed on an invoice are recorded, so usage that reaches ClickHouse
after a period was finalized is billed on the next invoice as an adjustment naming its period.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing.charged import charged_plan, proration_description
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
from billing.periods import local_date
from billing.rules import METERS
from billing.wording import date_range, fee_text, usage_text

MAX_DESCRIPTION = 100
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
    """The invoice's lines and the ledger entries they bill. Each fee, usage and proration
    line names the plan version that charged its entries (``billing.charged``)."""
    entries = unbilled(session, subscription, invoice.period_start_ms)
    own = [e for e in entries if e.period_start_ms == invoice.period_start_ms]
    late = [e for e in entries if e.period_start_ms != invoice.period_start_ms]
    plan = period_plan(session, subscription, invoice.period_start_ms)
    lines = _fee_lines(session, own, plan)
    lines += _usage_lines(session, subscription, invoice.period_start_ms, own, plan)
    for entry in own:
        if entry.kind == "proration":
            text = proration_description(session, entry, subscription.time_zone)
            lines.append(Line("proration", clip(text), -entry.amount_minor))
        elif entry.kind == "adjustment":
            lines.append(Line("adjustment", clip(entry.reason), -entry.amount_minor))
    lines.extend(_late_lines(session, subscription, late))
    return lines, [e.id for e in entries]


def period_plan(session: Session, subscription: Subscription, period_start_ms: int) -> Plan:
    """The plan a period is charged on now (after an upgrade, the new one)."""
    row = session.get(PeriodPlan, (subscription.id, period_start_ms))
    return session.get_one(Plan, row.plan_id if row else subscription.plan_id)


def _fee_lines(session: Session, own: list[LedgerEntry], plan: Plan) -> list[Line]:
    """One line per plan version that charged a fee in the period."""
    fees: dict[int, tuple[Plan, int]] = {}
    for entry in own:
        if entry.kind == "fee":
            charged = charged_plan(session, entry, plan)
            amount = fees.get(charged.id, (charged, 0))[1]
            fees[charged.id] = (charged, amount - entry.amount_minor)
    if not fees and plan.fee_minor:  # a fee not charged (the plan had ended): shown as 0
        fees[plan.id] = (plan, 0)
    return [Line("fee", clip(fee_text(p.name)), amount) for p, amount in fees.values()]


def _usage_lines(
    session: Session,
    subscription: Subscription,
    period_start_ms: int,
    own: list[LedgerEntry],
    plan: Plan,
) -> list[Line]:
    """One line per meter, with the quantities and prices of the period's plan: the plan
    that charged it. Each posting brings the meter's charge to what that plan makes of the
    period's quantities (an upgrade's terms apply to the whole period), so the entries sum
    to its charge even when the last of them was written under the plan before an upgrade
    with the same price for that meter."""
    usage = session.get(PeriodUsage, (subscription.id, period_start_ms))
    lines = []
    for meter in METERS:
        posted = [e for e in own if e.kind == "usage" and e.meter == meter]
        charged = plan
        quantity = getattr(usage, meter) if usage else 0
        included = getattr(charged, f"included_{meter}")
        lines.append(
            Line(
                "usage",
                clip(usage_text(METER_NAMES[meter], charged.name)),
                -sum(e.amount_minor for e in posted),
                meter,
                period_start_ms,
                quantity,
                included,
                max(0, quantity - included),
                getattr(charged, f"price_{meter}"),
            )
        )
    return lines


def _late_lines(
    session: Session, subscription: Subscription, late: list[LedgerEntry]
) -> list[Line]:
    groups: dict[tuple[int, str | None, str], list[LedgerEntry]] = defaultdict(list)
    for entry in late:
        if entry.period_start_ms is None:  # not a period's charge (unbilled() excludes them)
            continue
        groups[(entry.period_start_ms, entry.meter, entry.kind)].append(entry)
    lines = []
    for (period, meter, kind), group in sorted(
        groups.items(), key=lambda k: (k[0][0], str(k[0][1]))
    ):
        amount = -sum(e.amount_minor for e in group)
        month = local_date(period, subscription.time_zone).strftime("%Y-%m")
        charged = charged_plan(session, group[-1], period_plan(session, subscription, period))
        if meter is None:
            text = f"Late {kind} of {month} ({charged.name})"
            lines.append(Line("adjustment", clip(text), amount, None, period))
            continue
        usage = session.get(PeriodUsage, (subscription.id, period))
        stored = getattr(usage, meter) if usage else 0
        delta = stored - _invoiced_quantity(session, subscription, period, meter)
        text = f"Late {METER_NAMES[meter].lower()} of {month} ({charged.name})"
        lines.append(Line("adjustment", clip(text), amount, meter, period, delta))
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


def service_dates(invoice: Invoice, subscription: Subscription) -> tuple[date, date]:
    """The first and last day of service an invoice bills, in the subscription's zone: from
    its period's start, or the subscription's when it began later, to its period's last day,
    or the plan's last day when it ended sooner."""
    tz = subscription.time_zone
    begins = max(invoice.period_start_ms, subscription.start_ms)
    ends = invoice.period_end_ms
    if subscription.ends_at_ms is not None and begins < subscription.ends_at_ms < ends:
        ends = subscription.ends_at_ms
    return local_date(begins, tz), local_date(ends - 1, tz)


def service_period(invoice: Invoice, subscription: Subscription) -> str:
    """``Nov 10 (en dash) Nov 30, 2026``: the days of service, both ends included."""
    return date_range(*service_dates(invoice, subscription))
