"""Finalizing invoices (the ``billing`` role and ``billing-meter invoices finalize``).

A period's draft is finalized once its end plus the grace time has passed. With the
subscription's row locked (posting takes the same lock, so nothing is posted half way
through), the lines are computed, the next number of the seller's yearly counter is taken
(invoices are the seller's: one gapless sequence a year for the whole deployment; the
counter's row is locked too, so two finalizers cannot take the same number or leave a gap:
a number is only used by a committed finalization), the PDF is rendered and its sha256
stored, and ``invoice.finalized`` is emitted, all in one transaction.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from billing import accrual, pdf
from billing.invoice_settings import InvoiceSettings
from billing.invoicing import compute_lines, ensure_draft, unbilled
from billing.layout import invoice_document
from billing.models import (
    Invoice,
    InvoiceCounter,
    InvoicedEntry,
    InvoiceLine,
    PeriodPlan,
    Subscription,
)
from billing.money import format_amount
from billing.notices import notify
from billing.periods import iso
from billing.posting import UsageSource, post_subscription, query_window

__all__ = ["InvoiceSettings", "finalize_due", "finalize_one"]


def due_periods(
    session: Session, subscription: Subscription, now_ms: int, grace_ms: int
) -> list[PeriodPlan]:
    """Opened periods whose end plus the grace has passed, oldest first (a period wholly
    after a term plan's end is left out unless something is still to bill for it)."""
    periods = session.scalars(
        select(PeriodPlan)
        .where(
            PeriodPlan.subscription_id == subscription.id,
            PeriodPlan.period_end_ms + grace_ms <= now_ms,
        )
        .order_by(PeriodPlan.period_start_ms)
    )
    ends = subscription.ends_at_ms
    return [
        p
        for p in periods
        if ends is None
        or p.period_start_ms < ends
        or unbilled(session, subscription, p.period_start_ms)
    ]


def finalize_subscription(
    sessions: sessionmaker[Session], app_id: str, now_ms: int, settings: InvoiceSettings
) -> list[str]:
    """Finalize every due draft of one subscription; returns the numbers given."""
    numbers: list[str] = []
    with sessions.begin() as session:
        subscription = session.scalar(
            select(Subscription).where(Subscription.app_id == app_id).with_for_update()
        )
        if subscription is None:
            return numbers
        accrual.post_usage(session, subscription, {}, now_ms, None)  # closing entries only
        for period in due_periods(session, subscription, now_ms, settings.grace_ms):
            invoice = ensure_draft(session, subscription, period, now_ms)
            if invoice.status == "draft":
                numbers.append(finalize_one(session, subscription, invoice, now_ms, settings))
    return numbers


SELLER_COUNTER = "seller"  # the one sequence of the deployment (see migration 0004)


def next_number(session: Session, year: int) -> str:
    """The seller's next invoice number of ``year`` (``INV-2026-000001``), gapless across
    every customer of the deployment."""
    counter = session.get(InvoiceCounter, (SELLER_COUNTER, year), with_for_update=True)
    if counter is None:
        counter = InvoiceCounter(account=SELLER_COUNTER, year=year, last=0)
        session.add(counter)
    counter.last += 1
    session.flush()
    return f"INV-{year}-{counter.last:06d}"


def finalize_one(
    session: Session,
    subscription: Subscription,
    invoice: Invoice,
    now_ms: int,
    settings: InvoiceSettings,
) -> str:
    """Finalize ``invoice`` in the caller's transaction; returns its number."""
    lines, entry_ids = compute_lines(session, subscription, invoice)
    number = next_number(session, datetime.fromtimestamp(now_ms / 1000, tz=UTC).year)
    total = sum(line.amount_minor for line in lines)
    for position, line in enumerate(lines, 1):
        session.add(
            InvoiceLine(
                invoice_id=invoice.id,
                position=position,
                kind=line.kind,
                description=line.description,
                meter=line.meter,
                period_start_ms=line.period_start_ms,
                quantity=line.quantity,
                included=line.included,
                overage=line.overage,
                unit_price_micros=line.unit_price_micros,
                amount_minor=line.amount_minor,
            )
        )
    session.add_all(InvoicedEntry(ledger_entry_id=e, invoice_id=invoice.id) for e in entry_ids)
    session.flush()
    document = invoice_document(
        session, subscription, invoice, lines, (number, total, now_ms), settings=settings
    )
    body = pdf.render(document)
    invoice.status, invoice.number, invoice.total_minor = "finalized", number, total
    invoice.finalized_ms, invoice.pdf = now_ms, body
    invoice.pdf_sha256 = hashlib.sha256(body).hexdigest()
    session.flush()
    notify(
        session,
        key=f"invoice.finalized:{invoice.id}",
        app_id=subscription.app_id,
        kind="invoice.finalized",
        data={
            "number": number,
            "total": format_amount(total, invoice.currency),
            "currency": invoice.currency,
            "period_start": iso(invoice.period_start_ms, subscription.time_zone),
            "period_end": iso(invoice.period_end_ms, subscription.time_zone),
        },
        now_ms=now_ms,
    )
    return number


def finalize_due(
    sessions: sessionmaker[Session],
    now_ms: int,
    settings: InvoiceSettings,
    source: UsageSource | None = None,
) -> list[str]:
    """Finalize every due draft of every subscription; returns the numbers given.

    With a ``source`` each subscription that has a draft to finalize is posted first, so
    its lines hold every session that reached ClickHouse before the finalization. Without
    a seller nothing is finalized (see ``waiting_drafts``)."""
    if not settings.can_finalize:
        return []
    with sessions() as session:
        subscriptions = list(session.scalars(select(Subscription).order_by(Subscription.id)))
    numbers: list[str] = []
    for subscription in subscriptions:
        if not _has_due_draft(sessions, subscription, now_ms, settings.grace_ms):
            continue
        if source is not None:
            start_ms, end_ms = query_window(subscription, now_ms)
            quantities = source.period_quantities(
                subscription.app_id, start_ms, end_ms, subscription.time_zone
            )
            post_subscription(sessions, subscription.app_id, quantities, now_ms)
        numbers += finalize_subscription(sessions, subscription.app_id, now_ms, settings)
    return numbers


def _has_due_draft(
    sessions: sessionmaker[Session], subscription: Subscription, now_ms: int, grace_ms: int
) -> bool:
    with sessions() as session:
        return bool(_unfinalized_due(session, subscription, now_ms, grace_ms))


def _unfinalized_due(
    session: Session, subscription: Subscription, now_ms: int, grace_ms: int
) -> list[int]:
    """The starts of ``subscription``'s due periods that have no finalized invoice."""
    due = [p.period_start_ms for p in due_periods(session, subscription, now_ms, grace_ms)]
    if not due:
        return []
    final = set(
        session.scalars(
            select(Invoice.period_start_ms).where(
                Invoice.subscription_id == subscription.id,
                Invoice.status == "finalized",
                Invoice.period_start_ms.in_(due),
            )
        )
    )
    return [start for start in due if start not in final]


def waiting_drafts(
    sessions: sessionmaker[Session], now_ms: int, settings: InvoiceSettings
) -> list[tuple[str, int]]:
    """(app, period start) of the drafts that are due but not finalized, oldest first."""
    with sessions() as session:
        subscriptions = list(session.scalars(select(Subscription).order_by(Subscription.id)))
    waiting: list[tuple[str, int]] = []
    for subscription in subscriptions:
        with sessions() as session:
            due = _unfinalized_due(session, subscription, now_ms, settings.grace_ms)
        waiting += [(subscription.app_id, start) for start in due]
    return sorted(waiting, key=lambda pair: (pair[1], pair[0]))
