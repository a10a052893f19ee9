"""Plan changes of a running subscription (BILLING-SPEC §3): an upgrade at once with its
proration, a downgrade or a move between prepaid and enterprise scheduled for the next
period, a change before the start replacing the first plan, and the cancelling of what is
scheduled. Each one transaction, the subscription's row locked, like every command.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import accrual, ledger, plan_moves
from billing.access import Actor, require_owner_or_admin
from billing.catalog import latest_plan, terms
from billing.charged import upgrade_words
from billing.commands import locked, record_order
from billing.errors import ConflictError
from billing.models import Order, Plan, Subscription
from billing.notices import notify
from billing.periods import add_days, iso, period_at
from billing.rules import has_started, is_switch, is_upgrade, upgrade_proration


def change_plan(session: Session, actor: Actor, app_id: str, code: str, now_ms: int) -> Order:
    """Upgrade at once with proration, or schedule a downgrade for the next period."""
    subscription = locked(session, app_id)
    require_owner_or_admin(actor, subscription)
    accrual.roll(session, subscription, now_ms)
    current = session.get_one(Plan, subscription.plan_id)
    new = latest_plan(session, code)
    if new.id == current.id:
        raise ConflictError(f"{app_id} is already on {code} (version {new.version})")
    plan_moves.check_move(session, actor, subscription, new)
    if not has_started(subscription.start_ms, now_ms):
        return _replace_before_start(session, actor, subscription, (current, new), now_ms)
    if is_upgrade(terms(current), terms(new)):
        return _upgrade(session, actor, subscription, (current, new), now_ms)
    effective = iso(period_at(now_ms, subscription.time_zone).end_ms, subscription.time_zone)
    subscription.pending_plan_id = new.id
    change = "switch" if is_switch(terms(current), terms(new)) else "downgrade"
    detail = {**_versions(current, new), "effective": effective, "change": change}
    notice = f"plan.downgrade_scheduled:{subscription.id}:{new.id}:{now_ms}"
    return _unpriced(
        session,
        actor,
        subscription,
        status="scheduled",
        detail=detail,
        notice_key=notice,
        now_ms=now_ms,
    )


def _versions(current: Plan, new: Plan) -> dict[str, object]:
    """What a plan change's order records of its plans: codes and versions."""
    return {
        "from": current.code,
        "to": new.code,
        "from_version": current.version,
        "to_version": new.version,
    }


def _upgrade(
    session: Session,
    actor: Actor,
    subscription: Subscription,
    change: tuple[Plan, Plan],
    now_ms: int,
) -> Order:
    current, new = change
    period = period_at(now_ms, subscription.time_zone)
    amount = upgrade_proration(terms(current), terms(new), period, now_ms)
    order = record_order(
        session,
        subscription,
        actor,
        kind="plan_change",
        status="done",
        amount_minor=amount,
        currency=new.currency,
        now_ms=now_ms,
        detail={
            **_versions(current, new),
            "effective": iso(now_ms, subscription.time_zone),
        },
    )
    if amount:
        ledger.append(
            session,
            subscription,
            kind="proration",
            amount_minor=-amount,
            currency=new.currency,
            reason=upgrade_words(current.name, new.name, now_ms, subscription.time_zone),
            key=f"proration:{subscription.id}:order-{order.id}",
            order_id=order.id,
            now_ms=now_ms,
            period_start_ms=period.start_ms,
            plan_id=new.id,
        )
    subscription.plan_id, subscription.pending_plan_id = new.id, None
    if new.term_days is None:
        subscription.ends_at_ms = None
    elif subscription.ends_at_ms is None:
        subscription.ends_at_ms = add_days(now_ms, new.term_days, subscription.time_zone)
    for row in accrual.period_plans(session, subscription).values():
        if row.period_start_ms == period.start_ms:
            row.plan_id = new.id  # the new plan applies to the whole current period
    notify(
        session,
        key=f"plan.changed:{subscription.id}:order-{order.id}",
        app_id=subscription.app_id,
        kind="plan.changed",
        data={"from": current.code, "to": new.code, "effective": iso(now_ms)},
        now_ms=now_ms,
    )
    accrual.refresh_standing(session, subscription, now_ms)
    return order


def _replace_before_start(
    session: Session,
    actor: Actor,
    subscription: Subscription,
    change: tuple[Plan, Plan],
    now_ms: int,
) -> Order:
    """A plan chosen before the start replaces the first one: nothing was charged, so
    there is nothing to prorate or schedule; the term (if any) runs from the start."""
    current, new = change
    subscription.plan_id, subscription.pending_plan_id = new.id, None
    subscription.ends_at_ms = (
        None
        if new.term_days is None
        else add_days(subscription.start_ms, new.term_days, subscription.time_zone)
    )
    effective = iso(subscription.start_ms, subscription.time_zone)
    detail = {"from": current.code, "to": new.code, "effective": effective}
    notice = f"plan.changed:{subscription.id}:before-start:{new.id}:{now_ms}"
    return _unpriced(
        session,
        actor,
        subscription,
        status="done",
        detail=detail,
        notice_key=notice,
        now_ms=now_ms,
    )


def _unpriced(
    session: Session,
    actor: Actor,
    subscription: Subscription,
    *,
    status: str,
    detail: Mapping[str, object],
    notice_key: str,
    now_ms: int,
) -> Order:
    """The notice and the order of a change that charges nothing: ``scheduled`` (a
    downgrade or a switch, told as ``plan.downgrade_scheduled``) or ``done`` before the
    start (``plan.changed``). Both plans share the currency (a move never changes it)."""
    kind = "plan.changed" if status == "done" else "plan.downgrade_scheduled"
    app_id = subscription.app_id
    notify(session, key=notice_key, app_id=app_id, kind=kind, data=dict(detail), now_ms=now_ms)
    plan = session.get_one(Plan, subscription.plan_id)
    return record_order(
        session,
        subscription,
        actor,
        kind="plan_change",
        status=status,
        amount_minor=0,
        currency=plan.currency,
        now_ms=now_ms,
        detail=detail,
    )


def cancel_change(session: Session, actor: Actor, app_id: str, now_ms: int) -> Order:
    """Cancel a scheduled downgrade (until the period it starts)."""
    subscription = locked(session, app_id)
    require_owner_or_admin(actor, subscription)
    accrual.roll(session, subscription, now_ms)  # a downgrade that is due has happened
    if subscription.pending_plan_id is None:
        raise ConflictError(f"{app_id} has no scheduled plan change")
    subscription.pending_plan_id = None
    scheduled = list(
        session.scalars(
            select(Order).where(
                Order.subscription_id == subscription.id,
                Order.kind == "plan_change",
                Order.status == "scheduled",
            )
        )
    )
    for order in scheduled:
        order.status, order.updated_ms = "cancelled", now_ms
    return scheduled[-1]
