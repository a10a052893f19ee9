"""What a subscription owes as time passes and usage arrives (BILLING-SPEC §3-5).

``roll`` charges period fees and applies scheduled downgrades and expiry; ``post_usage``
debits what each period's usage charge has grown by (at most once an hour per meter while
the period runs, at once when it closes) and keeps the rest as the live accrual;
``refresh_standing`` emits the balance and expiry notifications on the live balance. Each
runs inside the caller's transaction, with the subscription's row locked, and every entry
has a key naming what it is for, so running them again, or from two processes, changes
nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import ledger, policy
from billing.catalog import terms
from billing.invoicing import ensure_draft
from billing.models import Order, PeriodPlan, PeriodUsage, Plan, Subscription
from billing.money import format_amount
from billing.notices import notify
from billing.periods import Period, iso, periods_between
from billing.rules import (
    METERS,
    POST_EVERY_MS,
    balance_notification,
    balance_state,
    charges,
    default_threshold,
    expiry_notice,
    has_started,
    usage_bucket,
)

Quantities = Mapping[str, int]


def period_plans(session: Session, subscription: Subscription) -> dict[int, PeriodPlan]:
    """The plan of each period already opened, by period start."""
    rows = session.scalars(select(PeriodPlan).where(PeriodPlan.subscription_id == subscription.id))
    return {row.period_start_ms: row for row in rows}


def roll(session: Session, subscription: Subscription, now_ms: int) -> None:
    """Open every period that has begun: its plan (a scheduled downgrade applies), its fee."""
    opened = period_plans(session, subscription)
    for period in periods_between(subscription.start_ms, now_ms + 1, subscription.time_zone):
        if period.start_ms not in opened:
            _open_period(session, subscription, period, now_ms)


def _open_period(session: Session, subscription: Subscription, period: Period, now_ms: int) -> None:
    begins = max(period.start_ms, subscription.start_ms)
    if subscription.pending_plan_id is not None and begins > subscription.start_ms:
        old = session.get_one(Plan, subscription.plan_id)
        subscription.plan_id, subscription.pending_plan_id = subscription.pending_plan_id, None
        new = session.get_one(Plan, subscription.plan_id)
        for order in session.scalars(
            select(Order).where(
                Order.subscription_id == subscription.id,
                Order.kind == "plan_change",
                Order.status == "scheduled",
            )
        ):
            order.status, order.updated_ms = "done", now_ms
        notify(
            session,
            key=f"plan.changed:{subscription.id}:{period.start_ms}",
            app_id=subscription.app_id,
            kind="plan.changed",
            data={"from": old.code, "to": new.code, "effective": iso(begins)},
            now_ms=now_ms,
        )
    opened = PeriodPlan(
        subscription_id=subscription.id,
        period_start_ms=period.start_ms,
        period_end_ms=period.end_ms,
        plan_id=subscription.plan_id,
    )
    session.add(opened)
    session.flush()
    plan = session.get_one(Plan, subscription.plan_id)
    expired = subscription.ends_at_ms is not None and begins >= subscription.ends_at_ms
    if not expired:
        ensure_draft(session, subscription, opened, now_ms)
    if plan.fee_minor and not expired:
        ledger.append(
            session,
            subscription,
            kind="fee",
            amount_minor=-plan.fee_minor,
            currency=plan.currency,
            reason=f"{plan.name} monthly fee, period from "
            f"{iso(period.start_ms, subscription.time_zone)}",
            key=f"fee:{subscription.id}:{period.start_ms}",
            now_ms=now_ms,
            period_start_ms=period.start_ms,
            plan_id=plan.id,
        )
    session.flush()


def post_usage(
    session: Session,
    subscription: Subscription,
    quantities: Mapping[int, Quantities],
    now_ms: int,
    every_ms: int | None = POST_EVERY_MS,
) -> int:
    """Debit each opened period's growth of usage charges; returns the entries added.

    A running period gets at most one usage entry per meter and ``every_ms`` bucket (its
    key names the bucket, so a retry or a second poster cannot add another; ``None``: none,
    only the closing entries, which is what finalizing needs); a period
    whose chargeable time is over gets its closing entry at once, so its invoice is exact.
    What is not posted yet is kept as ``pending_usage_minor`` (the live balance's accrual).
    Quantities only grow (sessions are idempotent in ClickHouse), so a reading smaller
    than the one already stored is stale (another poster was faster) and is not used.
    """
    added = pending = 0
    for start_ms, plan_row in sorted(period_plans(session, subscription).items()):
        stored = _stored_usage(session, subscription, start_ms, quantities.get(start_ms), now_ms)
        if stored is None:
            continue  # no usage was ever read for it: nothing is or was charged
        posted, unposted = _post_period(
            session, subscription, plan_row, stored, now_ms=now_ms, every_ms=every_ms
        )
        added, pending = added + posted, pending + unposted
    subscription.pending_usage_minor = pending
    return added


def _post_period(
    session: Session,
    subscription: Subscription,
    plan_row: PeriodPlan,
    stored: PeriodUsage,
    *,
    now_ms: int,
    every_ms: int | None,
) -> tuple[int, int]:
    """Post one period's owed charges as its slot allows: (entries added, still owed)."""
    start_ms = plan_row.period_start_ms
    plan = session.get_one(Plan, plan_row.plan_id)
    target = charges(terms(plan), {m: getattr(stored, m) for m in METERS})
    posted = ledger.period_sums(session, subscription.id, start_ms, "usage")
    ends = subscription.ends_at_ms
    closed = now_ms >= (
        plan_row.period_end_ms if ends is None else min(plan_row.period_end_ms, ends)
    )
    added = pending = 0
    for meter in METERS:
        total, count = posted.get(meter, (0, 0))
        owed = target[meter] + total  # charged by the quantities, not yet posted
        slot = _entry_slot(closed=closed, count=count, now_ms=now_ms, every_ms=every_ms)
        if owed == 0 or slot is None:
            pending += owed
            continue
        entry = ledger.append(
            session,
            subscription,
            kind="usage",
            amount_minor=-owed,
            currency=plan.currency,
            reason=f"{meter}: {getattr(stored, meter)} in the period from "
            f"{iso(start_ms, subscription.time_zone)}",
            key=f"usage:{subscription.id}:{start_ms}:{meter}:{slot}",
            now_ms=now_ms,
            period_start_ms=start_ms,
            meter=meter,
            plan_id=plan.id,
        )
        added, pending = (added + 1, pending) if entry is not None else (added, pending + owed)
    return added, pending


def _entry_slot(*, closed: bool, count: int, now_ms: int, every_ms: int | None) -> str | None:
    """What a usage entry written now is for (its key's tail), or None if none is due: a
    closed period's n-th closing entry, else the posting bucket ``now_ms`` is in."""
    if closed:
        return f"closing:{count}"
    return None if every_ms is None else f"at:{usage_bucket(now_ms, every_ms)}"


def _stored_usage(
    session: Session,
    subscription: Subscription,
    start_ms: int,
    reading: Quantities | None,
    now_ms: int,
) -> PeriodUsage | None:
    """The period's quantities grown to ``reading`` (written only when they grow); None
    when the period has neither a stored row nor a reading."""
    row = session.get(PeriodUsage, (subscription.id, start_ms))
    if reading is None:
        return row
    if row is None:
        row = PeriodUsage(
            subscription_id=subscription.id,
            period_start_ms=start_ms,
            billing_sessions=0,
            voice_sessions=0,
            agents=0,
            updated_ms=now_ms,
        )
        session.add(row)
    grown = {meter: max(getattr(row, meter), reading.get(meter, 0)) for meter in METERS}
    if any(grown[meter] != getattr(row, meter) for meter in METERS):
        for meter, value in grown.items():
            setattr(row, meter, value)
        row.updated_ms = now_ms
    return row


def refresh_standing(
    session: Session,
    subscription: Subscription,
    now_ms: int,
    expiring_days: tuple[int, ...] | None = None,
) -> None:
    """Emit what changed: balance low / depleted / recovered, plan expiring / expired
    (``expiring_days``: the store's policy unless given). Nothing before the subscription
    starts: no fee is due yet, so an empty balance is not low (the state stays ``ok``, and
    the first fee's effect is told when it is charged)."""
    if not has_started(subscription.start_ms, now_ms):
        return
    plan = session.get_one(Plan, subscription.plan_id)
    if plan.kind == "prepaid":
        threshold = subscription.low_balance_minor
        if threshold is None:
            threshold = default_threshold(terms(plan))
        balance = ledger.live_balance(subscription)  # crossing between hourly entries counts
        state = balance_state(balance, threshold)
        kind = balance_notification(subscription.balance_state, state)  # type: ignore[arg-type]
        if kind is not None:
            # the occurrence: the newest entry and the accrual since (a retry sees the new
            # state and sends nothing; the key stops a concurrent one)
            occurrence = f"{subscription.balance_entry_id}:{subscription.pending_usage_minor}"
            notify(
                session,
                key=f"{kind}:{subscription.id}:{occurrence}",
                app_id=subscription.app_id,
                kind=kind,
                data={"balance": format_amount(balance, plan.currency), "currency": plan.currency},
                now_ms=now_ms,
            )
        subscription.balance_state = state
    _expiry(session, subscription, now_ms, expiring_days or policy.expiring_days(session))


def _expiry(
    session: Session, subscription: Subscription, now_ms: int, days: tuple[int, ...]
) -> None:
    notice = expiry_notice(subscription.ends_at_ms, now_ms, days)
    if notice is None or subscription.ends_at_ms is None:
        return
    kind, before = notice
    notify(
        session,
        key=f"{kind}:{subscription.id}:{subscription.ends_at_ms}:{before}",
        app_id=subscription.app_id,
        kind=kind,
        data={"ends_at": iso(subscription.ends_at_ms, subscription.time_zone), "days": before},
        now_ms=now_ms,
    )
