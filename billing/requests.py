"""Extension requests and bot-owner changes (BILLING-SPEC §3)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from billing import accounts, accrual
from billing.access import Actor, can_see, require_admin, require_owner_or_admin
from billing.commands import locked, record_order, user_named
from billing.errors import ConflictError, InvalidError, NotFoundError
from billing.models import Extension, Order, OwnerChange, Plan, Subscription, User
from billing.notices import notify
from billing.periods import add_days, iso

MAX_EXTENSION_DAYS = 90


def request_extension(
    session: Session, actor: Actor, app_id: str, *, days: int, reason: str, now_ms: int
) -> Extension:
    """Ask for ``days`` (1-90) more of a term plan."""
    subscription = locked(session, app_id)
    require_owner_or_admin(actor, subscription)
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise InvalidError(f"an extension is 1-{MAX_EXTENSION_DAYS} days, got {days}")
    if len(reason) > 2000:
        raise InvalidError("a reason is at most 2,000 characters")
    plan = session.get_one(Plan, subscription.plan_id)
    if subscription.ends_at_ms is None:
        raise ConflictError(f"{app_id} is on {plan.code}, which has no term to extend")
    order = record_order(
        session,
        subscription,
        actor,
        kind="extension",
        status="requested",
        amount_minor=None,
        currency=plan.currency,
        detail={"days": days, "reason": reason},
        now_ms=now_ms,
    )
    extension = Extension(
        subscription_id=subscription.id,
        order_id=order.id,
        days=days,
        reason=reason,
        status="requested",
        requested_by=actor.name,
        created_ms=now_ms,
    )
    session.add(extension)
    session.flush()
    notify(
        session,
        key=f"extension.requested:{extension.id}",
        app_id=app_id,
        kind="extension.requested",
        data={"extension_id": extension.id, "days": days, "reason": reason, "by": actor.name},
        now_ms=now_ms,
    )
    return extension


def decide_extension(
    session: Session, actor: Actor, extension_id: int, *, approve: bool, now_ms: int
) -> Extension:
    """Approve (``ends_at`` moves by the days) or reject a requested extension; admins only."""
    require_admin(actor, "approve or reject an extension")
    found = session.get(Extension, extension_id)
    owner_of = None if found is None else session.get_one(Subscription, found.subscription_id)
    if found is None or owner_of is None or not can_see(actor, owner_of):
        raise NotFoundError(f"unknown extension {extension_id}")  # another account's: the same
    subscription = locked(session, owner_of.app_id)
    extension = session.get_one(Extension, extension_id, with_for_update=True)
    if extension.status != "requested":
        raise ConflictError(f"extension {extension_id} was already {extension.status}")
    accrual.roll(session, subscription, now_ms)
    extension.status = "approved" if approve else "rejected"
    extension.decided_by, extension.decided_ms = actor.name, now_ms
    order = session.get_one(Order, extension.order_id)
    order.status, order.updated_ms = extension.status, now_ms
    data: dict[str, object] = {"extension_id": extension.id, "days": extension.days}
    if approve and subscription.ends_at_ms is not None:
        subscription.ends_at_ms = add_days(
            subscription.ends_at_ms, extension.days, subscription.time_zone
        )
        data["ends_at"] = iso(subscription.ends_at_ms, subscription.time_zone)
    notify(
        session,
        key=f"extension.{extension.status}:{extension.id}",
        app_id=subscription.app_id,
        kind=f"extension.{extension.status}",
        data=data,
        now_ms=now_ms,
    )
    accrual.roll(session, subscription, now_ms)
    accrual.refresh_standing(session, subscription, now_ms)
    return extension


def change_owner(session: Session, actor: Actor, app_id: str, to: str, now_ms: int) -> OwnerChange:
    """Give the bot a new owner (admins only), recorded with who and when."""
    require_admin(actor, "change a bot owner")
    subscription = locked(session, app_id)
    require_owner_or_admin(actor, subscription)  # an admin of another account: unknown app
    new_owner = user_named(session, to)
    accounts.require_bot_owner(session, new_owner, subscription.account_id or 0)
    old_owner = session.get_one(User, subscription.owner_id)
    if old_owner.id == new_owner.id:
        raise ConflictError(f"{to} already owns {app_id}")
    change = OwnerChange(
        subscription_id=subscription.id,
        from_user=old_owner.name,
        to_user=new_owner.name,
        changed_by=actor.name,
        changed_ms=now_ms,
    )
    session.add(change)
    subscription.owner_id = new_owner.id
    session.flush()
    notify(
        session,
        key=f"owner.changed:{change.id}",
        app_id=app_id,
        kind="owner.changed",
        data={"from": old_owner.name, "to": new_owner.name, "by": actor.name},
        now_ms=now_ms,
    )
    return change
