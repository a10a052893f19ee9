"""Orders & Invoices as the CLI and the API read them (BILLING-SPEC §6): invoices (drafts
with their lines so far, finalized ones as they were finalized), their PDFs, orders and
top-up receipts. Not available for subscriptions on an Enterprise plan, except to the
operator's CLI: API callers get 403 with the reason.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import pdf
from billing.access import OPERATOR, Actor
from billing.errors import ConflictError, ForbiddenError, NotFoundError
from billing.invoice_settings import SELLER_MISSING, InvoiceSettings
from billing.invoicing import Line, compute_lines
from billing.layout import receipt_document
from billing.models import Invoice, InvoiceLine, Order, Plan, Subscription
from billing.money import format_amount, format_price
from billing.operations import Sessions
from billing.periods import iso, local_date
from billing.views import order_json, visible_subscriptions

ENTERPRISE_REFUSAL = "is on an Enterprise plan: Orders & Invoices are not available for it"


def _console(session: Session, actor: Actor, app_id: str | None) -> dict[int, Subscription]:
    subscriptions = visible_subscriptions(session, actor, app_id)
    if actor is OPERATOR:
        return {s.id: s for s in subscriptions}
    allowed = {}
    for subscription in subscriptions:
        if session.get_one(Plan, subscription.plan_id).kind == "enterprise":
            if app_id is not None:
                raise ForbiddenError(f"{subscription.app_id} {ENTERPRISE_REFUSAL}")
            continue
        allowed[subscription.id] = subscription
    return allowed


def line_json(line: Line | InvoiceLine, currency: str, tz: str) -> dict[str, Any]:
    """One invoice line."""
    period = line.period_start_ms
    return {
        "kind": line.kind,
        "description": line.description,
        "meter": line.meter,
        "period": None if period is None else local_date(period, tz).isoformat(),
        "quantity": line.quantity,
        "included": line.included,
        "overage": line.overage,
        "unit_price": None
        if line.unit_price_micros is None
        else format_price(line.unit_price_micros),
        "amount": format_amount(line.amount_minor, currency),
    }


def invoice_json(session: Session, invoice: Invoice, subscription: Subscription) -> dict[str, Any]:
    """An invoice; a draft shows the lines it would have now."""
    tz = subscription.time_zone
    if invoice.status == "finalized":
        lines: list[Line] | list[InvoiceLine] = list(
            session.scalars(
                select(InvoiceLine)
                .where(InvoiceLine.invoice_id == invoice.id)
                .order_by(InvoiceLine.position)
            )
        )
        total = invoice.total_minor or 0
    else:
        lines = compute_lines(session, subscription, invoice)[0]
        total = sum(line.amount_minor for line in lines)
    return {
        "number": invoice.number,
        "app_id": invoice.app_id,
        "status": invoice.status,
        "period_start": iso(invoice.period_start_ms, tz),
        "period_end": iso(invoice.period_end_ms, tz),
        "currency": invoice.currency,
        "lines": [line_json(line, invoice.currency, tz) for line in lines],
        "total": format_amount(total, invoice.currency),
        "finalized_at": iso(invoice.finalized_ms, tz) if invoice.finalized_ms else None,
        "pdf_sha256": invoice.pdf_sha256,
        "pdf": f"/api/invoices/{invoice.number}.pdf" if invoice.number else None,
    }


def list_invoices(sessions: Sessions, actor: Actor, app_id: str | None) -> list[dict[str, Any]]:
    """Invoices of the visible apps, newest first."""
    with sessions() as session:
        subscriptions = _console(session, actor, app_id)
        rows = session.scalars(
            select(Invoice)
            .where(Invoice.subscription_id.in_(subscriptions))
            .order_by(Invoice.period_start_ms.desc(), Invoice.id.desc())
        )
        return [invoice_json(session, row, subscriptions[row.subscription_id]) for row in rows]


def _finalized(session: Session, actor: Actor, number: str) -> tuple[Invoice, Subscription]:
    unknown = NotFoundError(f"unknown invoice {number[:64]!r}")
    invoice = session.scalar(select(Invoice).where(Invoice.number == number))
    if invoice is None:
        raise unknown
    try:  # another's invoice answers like one that does not exist
        subscription = _console(session, actor, invoice.app_id)[invoice.subscription_id]
    except NotFoundError:
        raise unknown from None
    return invoice, subscription


def get_invoice(sessions: Sessions, actor: Actor, number: str) -> dict[str, Any]:
    """One finalized invoice by number."""
    with sessions() as session:
        invoice, subscription = _finalized(session, actor, number)
        return invoice_json(session, invoice, subscription)


def invoice_pdf(sessions: Sessions, actor: Actor, number: str) -> bytes:
    """The PDF stored when the invoice was finalized."""
    with sessions() as session:
        invoice, _ = _finalized(session, actor, number)
        return invoice.pdf or b""


def list_orders(sessions: Sessions, actor: Actor, app_id: str | None) -> list[dict[str, Any]]:
    """Orders of the visible apps, newest first; paid top-ups link their receipt."""
    with sessions() as session:
        subscriptions = _console(session, actor, app_id)
        rows = session.scalars(
            select(Order).where(Order.subscription_id.in_(subscriptions)).order_by(Order.id.desc())
        )
        return [
            {
                **order_json(o),
                "receipt": f"/api/orders/{o.id}/receipt.pdf" if _paid_topup(o) else None,
            }
            for o in rows
        ]


def _paid_topup(order: Order) -> bool:
    return order.kind == "topup" and order.status == "paid"


def receipt_pdf(
    sessions: Sessions, actor: Actor, order_id: int, settings: InvoiceSettings
) -> bytes:
    """The receipt of a paid top-up (rendered from the order: always the same bytes)."""
    with sessions() as session:
        unknown = NotFoundError(f"no receipt for order {order_id}: receipts are for paid top-ups")
        order = session.get(Order, order_id)
        if order is None or not _paid_topup(order):
            raise unknown
        try:  # another's order answers like one that does not exist
            subscription = _console(session, actor, order.app_id)[order.subscription_id]
        except NotFoundError:
            raise unknown from None
        if not settings.can_finalize:
            raise ConflictError(f"no receipt yet: {SELLER_MISSING}")
        return pdf.render(receipt_document(session, subscription, order, settings))
