"""The ledger (BILLING-SPEC §4): append-only entries with unique idempotency keys.

Each subscription's running balance (``subscriptions.balance_minor``) is the sum of its
entries, kept by the database itself in the transaction of every insert (migration 0009),
so reading a balance is O(1). ``summed_balance`` is the same figure the slow way: for
checks, not for reads.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing.models import LedgerEntry, Subscription


def append(
    session: Session,
    subscription: Subscription,
    *,
    kind: str,
    amount_minor: int,
    currency: str,
    reason: str,
    key: str,
    now_ms: int,
    period_start_ms: int | None = None,
    meter: str | None = None,
    order_id: int | None = None,
    plan_id: int | None = None,
) -> LedgerEntry | None:
    """Add an entry unless ``key`` was used already (then None: the retry changes nothing)."""
    existing = session.scalar(select(LedgerEntry.id).where(LedgerEntry.idempotency_key == key))
    if existing is not None:
        return None
    entry = LedgerEntry(
        subscription_id=subscription.id,
        app_id=subscription.app_id,
        kind=kind,
        amount_minor=amount_minor,
        currency=currency,
        period_start_ms=period_start_ms,
        meter=meter,
        order_id=order_id,
        plan_id=plan_id,
        reason=reason,
        idempotency_key=key,
        created_ms=now_ms,
    )
    session.add(entry)
    session.flush()
    # the insert's trigger moved the running balance: read it again when next asked
    session.expire(subscription, ["balance_minor", "balance_entry_id"])
    return entry


def posted_balance(subscription: Subscription) -> int:
    """The sum of the subscription's posted entries (minor units), in O(1)."""
    return subscription.balance_minor


def live_balance(subscription: Subscription) -> int:
    """The posted balance less the usage charges accrued since the last posted usage entry:
    what the balance is now, as of the last posting pass (at most an interval old)."""
    return subscription.balance_minor - subscription.pending_usage_minor


def summed_balance(session: Session, subscription_id: int) -> int:
    """The sum of a subscription's entries, summed over the whole ledger (O(entries))."""
    total = session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_minor), 0)).where(
            LedgerEntry.subscription_id == subscription_id
        )
    )
    return int(total or 0)


def period_sums(
    session: Session, subscription_id: int, period_start_ms: int, kind: str
) -> dict[str | None, tuple[int, int]]:
    """Per meter: (sum of amounts, number of entries) of ``kind`` in one period."""
    rows = session.execute(
        select(LedgerEntry.meter, func.sum(LedgerEntry.amount_minor), func.count())
        .where(
            LedgerEntry.subscription_id == subscription_id,
            LedgerEntry.period_start_ms == period_start_ms,
            LedgerEntry.kind == kind,
        )
        .group_by(LedgerEntry.meter)
    ).all()
    return {meter: (int(total), int(count)) for meter, total, count in rows}
