"""The commands of a subscription's life (BILLING-SPEC §3, §6 orders): each one
transaction, the subscription's row locked, validated before anything is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import orjson
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing import accounts, accrual, ledger
from billing.access import Actor, require_admin, require_owner_or_admin, unknown_app
from billing.catalog import latest_plan
from billing.errors import ConflictError, InvalidError, NotFoundError
from billing.models import LedgerEntry, Order, Plan, Subscription, User
from billing.money import MoneyError, parse_amount
from billing.periods import ZoneError, add_days, midnight_ms, zone


def locked(session: Session, app_id: str) -> Subscription:
    """The app's subscription, its row locked for this transaction; ``NotFoundError`` if none."""
    subscription = session.scalar(
        select(Subscription).where(Subscription.app_id == app_id).with_for_update()
    )
    if subscription is None:
        raise NotFoundError(unknown_app(app_id))
    return subscription


def user_named(session: Session, name: str) -> User:
    """The user ``name``; ``NotFoundError`` if there is none."""
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFoundError(f"unknown user {name!r}")
    return user


def record_order(
    session: Session,
    subscription: Subscription,
    actor: Actor,
    *,
    kind: str,
    status: str,
    amount_minor: int | None,
    currency: str,
    detail: Mapping[str, object],
    now_ms: int,
) -> Order:
    order = Order(
        subscription_id=subscription.id,
        app_id=subscription.app_id,
        kind=kind,
        status=status,
        amount_minor=amount_minor,
        currency=currency,
        detail=orjson.dumps(detail).decode(),
        requested_by=actor.name,
        created_ms=now_ms,
        updated_ms=now_ms,
    )
    session.add(order)
    session.flush()
    return order


def subscribe(
    session: Session,
    actor: Actor,
    *,
    app_id: str,
    plan_code: str,
    owner: str,
    start: date,
    tz: str = "UTC",
    low_balance: str | None = None,
    now_ms: int,
    account_id: int,
) -> Subscription:
    """Subscribe ``app_id`` to the newest version of ``plan_code`` from midnight of ``start``,
    placing it in account ``account_id``."""
    require_admin(actor, "subscribe an app")
    if not actor.is_operator and actor.account_id != account_id:
        raise NotFoundError("unknown account")
    if not app_id or len(app_id) > 256:
        raise InvalidError("an app id is 1-256 characters")
    try:
        zone(tz)
    except ZoneError as exc:
        raise InvalidError(str(exc)) from None
    plan = latest_plan(session, plan_code)
    owner_user = user_named(session, owner)
    accounts.require_bot_owner(session, owner_user, account_id)
    if session.scalar(select(Subscription.id).where(Subscription.app_id == app_id)) is not None:
        raise ConflictError(f"{app_id} already has a subscription")
    try:
        threshold = (
            None
            if low_balance is None
            else parse_amount(low_balance, plan.currency, positive=False)
        )
    except MoneyError as exc:
        raise InvalidError(f"low balance: {exc}") from None
    start_ms = midnight_ms(start, tz)
    subscription = Subscription(
        app_id=app_id,
        plan_id=plan.id,
        owner_id=owner_user.id,
        start_ms=start_ms,
        time_zone=tz,
        low_balance_minor=threshold,
        ends_at_ms=None if plan.term_days is None else add_days(start_ms, plan.term_days, tz),
        balance_state="ok",
        created_ms=now_ms,
        account_id=account_id,
    )
    accounts.place(session, app_id, account_id, now_ms)
    session.add(subscription)
    try:
        session.flush()
    except IntegrityError:  # a concurrent subscribe of the same app won
        raise ConflictError(f"{app_id} already has a subscription") from None
    accrual.roll(session, subscription, now_ms)
    accrual.refresh_standing(session, subscription, now_ms)
    return subscription


def add_funds(
    session: Session, actor: Actor, app_id: str, *, amount: str, key: str | None, now_ms: int
) -> Order:
    """Top up a prepaid balance; a repeated ``key`` returns the first order unchanged."""
    subscription = locked(session, app_id)
    require_owner_or_admin(actor, subscription)
    accrual.roll(session, subscription, now_ms)
    plan = session.get_one(Plan, subscription.plan_id)
    if plan.kind != "prepaid":
        raise ConflictError(f"{app_id} is on an enterprise plan: it has no balance to add funds to")
    try:
        minor = parse_amount(amount, plan.currency)
    except MoneyError as exc:
        raise InvalidError(str(exc)) from None
    if key is not None and not 1 <= len(key) <= 200:
        raise InvalidError("an idempotency key is 1-200 characters")
    ledger_key = f"topup:{subscription.id}:{key}" if key else None
    if ledger_key is not None:
        repeat = _repeated_topup(session, ledger_key, minor)
        if repeat is not None:
            return repeat
    order = record_order(
        session,
        subscription,
        actor,
        kind="topup",
        status="paid",
        amount_minor=minor,
        currency=plan.currency,
        detail={"idempotency_key": key},
        now_ms=now_ms,
    )
    ledger.append(
        session,
        subscription,
        kind="topup",
        amount_minor=minor,
        currency=plan.currency,
        reason=f"funds added by {actor.name}",
        order_id=order.id,
        key=ledger_key or f"topup:{subscription.id}:order-{order.id}",
        now_ms=now_ms,
    )
    accrual.refresh_standing(session, subscription, now_ms)
    return order


def _repeated_topup(session: Session, ledger_key: str, minor: int) -> Order | None:
    entry = session.scalar(select(LedgerEntry).where(LedgerEntry.idempotency_key == ledger_key))
    if entry is None or entry.order_id is None:
        return None
    if entry.amount_minor != minor:
        raise ConflictError("this idempotency key was used for a different amount")
    return session.get_one(Order, entry.order_id)
