"""What the CLI prints and the API answers (one JSON shape for both). Amounts are
decimal strings; instants are ISO 8601 with the subscription's offset.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import ledger, policy
from billing.access import Actor, can_see, require_billing, unknown_app
from billing.catalog import terms
from billing.errors import NotFoundError
from billing.models import (
    Extension,
    LedgerEntry,
    Notification,
    Order,
    PeriodPlan,
    PeriodUsage,
    Plan,
    Subscription,
    User,
)
from billing.money import format_amount, format_price
from billing.periods import iso, local_date, period_at
from billing.rules import METERS, charges, default_threshold, has_started, standing


def plan_json(plan: Plan) -> dict[str, Any]:
    """A plan version."""
    return {
        "code": plan.code,
        "version": plan.version,
        "name": plan.name,
        "currency": plan.currency,
        "kind": plan.kind,
        "monthly_fee": format_amount(plan.fee_minor, plan.currency),
        "included": {m: getattr(plan, f"included_{m}") for m in METERS},
        "unit_price": {m: format_price(getattr(plan, f"price_{m}")) for m in METERS},
        "term_days": plan.term_days,
        "changes_to": None if plan.changes_to is None else plan.changes_to.split(","),
    }


def visible_subscriptions(
    session: Session, actor: Actor, app_id: str | None = None
) -> list[Subscription]:
    """The subscriptions ``actor`` may see (all for admins, their own for owners)."""
    require_billing(actor)
    query = select(Subscription).order_by(Subscription.app_id)
    if app_id is not None:
        query = query.where(Subscription.app_id == app_id)
    rows = list(session.scalars(query))
    found = [s for s in rows if can_see(actor, s)]
    if app_id is not None and not found:  # another's app answers like one that does not exist
        raise NotFoundError(unknown_app(app_id))
    return found


def subscription_json(session: Session, subscription: Subscription, now_ms: int) -> dict[str, Any]:
    """The ``balance --format json`` object of one subscription (BILLING-SPEC §3, §5)."""
    plan = session.get_one(Plan, subscription.plan_id)
    tz = subscription.time_zone
    started = has_started(subscription.start_ms, now_ms)
    # before its start, the period shown is its first one (from the start), not today's
    period = period_at(now_ms if started else subscription.start_ms, tz)
    usage = session.get(PeriodUsage, (subscription.id, period.start_ms))
    quantities = {m: getattr(usage, m) if usage else 0 for m in METERS}
    live_charges = charges(terms(_period_plan(session, subscription, period.start_ms)), quantities)
    balance = ledger.live_balance(subscription)  # O(1), as of the last posting pass
    threshold = subscription.low_balance_minor
    if threshold is None:
        threshold = default_threshold(terms(plan))
    state = standing(
        kind=plan.kind,
        balance_minor=balance,
        threshold_minor=threshold,
        ends_at_ms=subscription.ends_at_ms,
        now_ms=now_ms,
        downgrade_scheduled=subscription.pending_plan_id is not None,
        expiring_days=max(policy.expiring_days(session)),
        starts_at_ms=subscription.start_ms,
    )
    pending = (
        session.get(Plan, subscription.pending_plan_id) if subscription.pending_plan_id else None
    )
    prepaid = plan.kind == "prepaid"
    return {
        "app_id": subscription.app_id,
        "plan": plan.code,
        "plan_name": plan.name,
        "plan_version": plan.version,
        "kind": plan.kind,
        "currency": plan.currency,
        "status": state.status,
        "notices": list(state.notices),
        "balance": format_amount(balance, plan.currency) if prepaid else None,
        "amount_due": None
        if prepaid
        else format_amount(
            subscription.pending_usage_minor
            - _period_total(session, subscription, period.start_ms),
            plan.currency,
        ),
        "low_balance": format_amount(threshold, plan.currency),
        "period_start": iso(period.start_ms if started else subscription.start_ms, tz),
        "period_end": iso(period.end_ms, tz),
        "usage": quantities,
        "included": {m: getattr(plan, f"included_{m}") for m in METERS},
        "charges": {m: format_amount(live_charges[m], plan.currency) for m in METERS},
        "monthly_fee": format_amount(plan.fee_minor, plan.currency),
        "ends_at": iso(subscription.ends_at_ms, tz) if subscription.ends_at_ms else None,
        "pending_plan": pending.code if pending else None,
        "pending_plan_name": pending.name if pending else None,
        "owner": session.get_one(User, subscription.owner_id).name,
        "time_zone": tz,
        "started_at": iso(subscription.start_ms, tz),
        "starts_at": iso(subscription.start_ms, tz),
        "starts_on": local_date(subscription.start_ms, tz).isoformat(),
    }


def _period_plan(session: Session, subscription: Subscription, period_start_ms: int) -> Plan:
    """The plan version that charges the period (the subscription's if not opened yet)."""
    opened = session.get(PeriodPlan, (subscription.id, period_start_ms))
    return session.get_one(Plan, opened.plan_id if opened else subscription.plan_id)


def _period_total(session: Session, subscription: Subscription, period_start_ms: int) -> int:
    rows = session.scalars(
        select(LedgerEntry.amount_minor).where(
            LedgerEntry.subscription_id == subscription.id,
            LedgerEntry.period_start_ms == period_start_ms,
        )
    )
    return sum(rows)


def ledger_json(session: Session, actor: Actor, app_id: str | None) -> list[dict[str, Any]]:
    """Ledger entries of the visible subscriptions, oldest first."""
    subscriptions = {s.id: s for s in visible_subscriptions(session, actor, app_id)}
    rows = session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.subscription_id.in_(subscriptions))
        .order_by(LedgerEntry.id)
    )
    return [
        {
            "id": e.id,
            "app_id": e.app_id,
            "kind": e.kind,
            "amount": format_amount(e.amount_minor, e.currency),
            "currency": e.currency,
            "period_start": iso(e.period_start_ms, subscriptions[e.subscription_id].time_zone)
            if e.period_start_ms is not None
            else None,
            "meter": e.meter,
            "reason": e.reason,
            "idempotency_key": e.idempotency_key,
            "created_at": iso(e.created_ms),
        }
        for e in rows
    ]


def notifications_json(session: Session, actor: Actor, app_id: str | None) -> list[dict[str, Any]]:
    """Stored notifications of the visible apps, newest first."""
    apps = [s.app_id for s in visible_subscriptions(session, actor, app_id)]
    rows = session.scalars(
        select(Notification).where(Notification.app_id.in_(apps)).order_by(Notification.id.desc())
    )
    return [
        {
            "id": n.id,
            "app_id": n.app_id,
            "kind": n.kind,
            "created_at": iso(n.created_ms),
            "published": n.published_ms is not None,
            **{"data": orjson.loads(n.payload)["data"]},
        }
        for n in rows
    ]


def order_json(order: Order) -> dict[str, Any]:
    """One order."""
    return {
        "id": order.id,
        "app_id": order.app_id,
        "kind": order.kind,
        "status": order.status,
        "amount": None
        if order.amount_minor is None
        else format_amount(order.amount_minor, order.currency),
        "currency": order.currency,
        "detail": orjson.loads(order.detail),
        "requested_by": order.requested_by,
        "created_at": iso(order.created_ms),
        "updated_at": iso(order.updated_ms),
    }


def extension_json(extension: Extension, app_id: str) -> dict[str, Any]:
    """One extension request."""
    return {
        "id": extension.id,
        "app_id": app_id,
        "days": extension.days,
        "reason": extension.reason,
        "status": extension.status,
        "requested_by": extension.requested_by,
        "decided_by": extension.decided_by,
        "created_at": iso(extension.created_ms),
        "decided_at": iso(extension.decided_ms) if extension.decided_ms else None,
    }
