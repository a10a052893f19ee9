"""Every billing operation as the CLI and the HTTP API call it: plain arguments in, the
JSON object out, one transaction each. Both front ends share this module, so they share
validation, permissions and output.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from billing import access, accounts, catalog, commands, plan_moves, requests, rules, views
from billing import plan_change as changes
from billing.access import Actor, require_admin, require_billing
from billing.errors import ConflictError, InvalidError
from billing.models import Extension, Membership, Plan, Subscription, User
from billing.money import MoneyError, format_amount, plain_decimal
from billing.periods import iso, local_date, period_at

Sessions = sessionmaker[Session]


def add_plan(
    sessions: Sessions, actor: Actor, spec: catalog.PlanSpec, now_ms: int
) -> dict[str, Any]:
    """``plans add``: a new plan (admins; ``plan_operations.revise_plan`` makes the next
    version of one)."""
    require_admin(actor, "add plans")
    with sessions.begin() as session:
        return views.plan_json(catalog.add_plan(session, spec, now_ms))


def list_plans(sessions: Sessions, actor: Actor) -> list[dict[str, Any]]:
    """``plans list``: every version."""
    require_billing(actor)
    with sessions() as session:
        return [views.plan_json(plan) for plan in catalog.all_plans(session)]


def add_user(
    sessions: Sessions,
    actor: Actor,
    name: str,
    role: str,
    now_ms: int,
    *,
    expires_ms: int | None = None,
    account: str | None = None,
) -> dict[str, Any]:
    """``users add``: the new user and its API key (shown once; valid until ``expires_ms``),
    with ``role`` in ``account`` (default: the default account) unless an operator. An
    existing user added to another account gets the role there, and no new key."""
    require_admin(actor, "add users")
    with sessions.begin() as session:
        existing = session.scalar(select(User).where(User.name == name))
        where = None if role == "operator" else accounts.account_named(session, account)
        if existing is not None and where is not None and not existing.operator:
            accounts.join(session, existing, where, role)
            return {"name": name, "role": role, "account": where.name}
        user, key = access.add_user(session, name, role, now_ms, expires_ms)
        if where is not None:
            accounts.join(session, user, where, role)
        expires = None if expires_ms is None else iso(expires_ms, "UTC")
        return {
            "name": user.name,
            "role": role,
            "account": None if where is None else where.name,
            "api_key": key,
            "key_expires": expires,
        }


def subscribe(
    sessions: Sessions,
    actor: Actor,
    *,
    app_id: str,
    plan: str,
    owner: str,
    start: str | None,
    tz: str | None,
    low_balance: str | None,
    now_ms: int,
    account: str | None = None,
) -> dict[str, Any]:
    """``subscribe``: from ``start`` (a date; default today in ``tz``), the app placed in
    ``account`` (default: the default account)."""
    zone = tz or "UTC"
    try:
        first = date.fromisoformat(start) if start else local_date(now_ms, "UTC")
    except ValueError:
        raise InvalidError(f"--start {start!r} is not a date YYYY-MM-DD") from None
    with sessions.begin() as session:
        subscription = commands.subscribe(
            session,
            actor,
            app_id=app_id,
            plan_code=plan,
            owner=owner,
            start=first,
            tz=zone,
            low_balance=low_balance,
            now_ms=now_ms,
            account_id=accounts.account_named(session, account).id,
        )
        return views.subscription_json(session, subscription, now_ms)


def subscriptions(
    sessions: Sessions, actor: Actor, app_id: str | None, now_ms: int
) -> list[dict[str, Any]]:
    """``balance``: one object per visible subscription."""
    with sessions() as session:
        return [
            views.subscription_json(session, s, now_ms)
            for s in views.visible_subscriptions(session, actor, app_id)
        ]


def add_funds(
    sessions: Sessions, actor: Actor, app_id: str, *, amount: str, key: str | None, now_ms: int
) -> dict[str, Any]:
    """``funds add``: the order (a repeated key returns the first one). The amount's form is
    checked before the transaction starts, so a hostile string never holds the write lock."""
    try:
        plain_decimal(amount, "amount")
    except MoneyError as exc:
        raise InvalidError(str(exc)) from None
    with sessions.begin() as session:
        order = commands.add_funds(session, actor, app_id, amount=amount, key=key, now_ms=now_ms)
        return {**views.order_json(order), "subscription": _subscription(session, app_id, now_ms)}


def change_plan(
    sessions: Sessions, actor: Actor, app_id: str, code: str, now_ms: int
) -> dict[str, Any]:
    """``plan change``: an upgrade's proration, or a downgrade's date."""
    with sessions.begin() as session:
        order = changes.change_plan(session, actor, app_id, code, now_ms)
        return {**views.order_json(order), "subscription": _subscription(session, app_id, now_ms)}


def cancel_change(sessions: Sessions, actor: Actor, app_id: str, now_ms: int) -> dict[str, Any]:
    """``plan cancel-change``."""
    with sessions.begin() as session:
        order = changes.cancel_change(session, actor, app_id, now_ms)
        return {**views.order_json(order), "subscription": _subscription(session, app_id, now_ms)}


def request_extension(
    sessions: Sessions, actor: Actor, app_id: str, *, days: int, reason: str, now_ms: int
) -> dict[str, Any]:
    """``extension request``."""
    with sessions.begin() as session:
        extension = requests.request_extension(
            session, actor, app_id, days=days, reason=reason, now_ms=now_ms
        )
        return views.extension_json(extension, app_id)


def decide_extension(
    sessions: Sessions, actor: Actor, extension_id: int, *, approve: bool, now_ms: int
) -> dict[str, Any]:
    """``extension approve|reject``."""
    with sessions.begin() as session:
        extension = requests.decide_extension(
            session, actor, extension_id, approve=approve, now_ms=now_ms
        )
        app_id = session.get_one(Subscription, extension.subscription_id).app_id
        return {
            **views.extension_json(extension, app_id),
            "subscription": _subscription(session, app_id, now_ms),
        }


def change_owner(
    sessions: Sessions, actor: Actor, app_id: str, to: str, now_ms: int
) -> dict[str, Any]:
    """``owner change`` (admins)."""
    with sessions.begin() as session:
        change = requests.change_owner(session, actor, app_id, to, now_ms)
        return {
            "app_id": app_id,
            "from": change.from_user,
            "to": change.to_user,
            "changed_by": change.changed_by,
            "subscription": _subscription(session, app_id, now_ms),
        }


def ledger(sessions: Sessions, actor: Actor, app_id: str | None) -> list[dict[str, Any]]:
    """``ledger``."""
    with sessions() as session:
        return views.ledger_json(session, actor, app_id)


def notifications(sessions: Sessions, actor: Actor, app_id: str | None) -> list[dict[str, Any]]:
    """``notifications``."""
    with sessions() as session:
        return views.notifications_json(session, actor, app_id)


def _subscription(session: Session, app_id: str, now_ms: int) -> dict[str, Any]:
    return views.subscription_json(session, commands.locked(session, app_id), now_ms)


def preview_change(
    sessions: Sessions, actor: Actor, app_id: str, code: str, now_ms: int
) -> dict[str, Any]:
    """What ``plan change`` would do, without doing it: an upgrade's proration now, or a
    downgrade's date (the page shows it before asking to confirm)."""
    with sessions() as session:
        subscription = views.visible_subscriptions(session, actor, app_id)[0]
        current = session.get_one(Plan, subscription.plan_id)
        new = catalog.latest_plan(session, code)
        if new.id == current.id:
            raise ConflictError(f"{app_id} is already on {code} (version {new.version})")
        plan_moves.check_move(session, actor, subscription, new)
        tz = subscription.time_zone
        if not rules.has_started(subscription.start_ms, now_ms):
            return _preview_before_start(subscription, current, new)
        period = period_at(now_ms, tz)
        upgrade = rules.is_upgrade(catalog.terms(current), catalog.terms(new))
        proration = rules.upgrade_proration(
            catalog.terms(current), catalog.terms(new), period, now_ms
        )
        return {
            "app_id": app_id,
            "from": current.code,
            "to": new.code,
            "from_name": current.name,
            "to_name": new.name,
            "kind": "upgrade" if upgrade else _later_kind(current, new),
            "proration": format_amount(proration, new.currency) if upgrade else None,
            "effective": iso(now_ms if upgrade else period.end_ms, tz),
            "monthly_fee": format_amount(new.fee_minor, new.currency),
        }


def _later_kind(current: Plan, new: Plan) -> str:
    """What a change that waits for the next period is: a switch of kind, or a downgrade."""
    return "switch" if rules.is_switch(catalog.terms(current), catalog.terms(new)) else "downgrade"


def _preview_before_start(subscription: Subscription, current: Plan, new: Plan) -> dict[str, Any]:
    """Before the start the new plan simply replaces the first one (nothing to prorate)."""
    return {
        "app_id": subscription.app_id,
        "from": current.code,
        "to": new.code,
        "kind": "replace",
        "proration": None,
        "effective": iso(subscription.start_ms, subscription.time_zone),
        "monthly_fee": format_amount(new.fee_minor, new.currency),
    }


def list_users(sessions: Sessions, actor: Actor) -> list[dict[str, Any]]:
    """Users who may own a bot of the admin's account (admins only: for the owner change;
    an operator: every user who is an owner or admin somewhere)."""
    require_admin(actor, "list users")
    with sessions() as session:
        query = (
            select(User.name, Membership.role)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.role != "member", User.revoked_ms.is_(None))
        )
        if not actor.is_operator:
            query = query.where(Membership.account_id == actor.account_id)
        rows = {row[0]: row[1] for row in session.execute(query.order_by(User.name))}
        return [{"name": name, "role": role} for name, role in rows.items()]


def list_extensions(
    sessions: Sessions, actor: Actor, app_id: str | None, status: str | None
) -> list[dict[str, Any]]:
    """Extension requests of the visible apps, newest first."""
    with sessions() as session:
        apps = {s.id: s.app_id for s in views.visible_subscriptions(session, actor, app_id)}
        query = select(Extension).where(Extension.subscription_id.in_(apps))
        if status is not None:
            query = query.where(Extension.status == status)
        rows = session.scalars(query.order_by(Extension.id.desc()))
        return [views.extension_json(e, apps[e.subscription_id]) for e in rows]


def owned_apps(sessions: Sessions, actor: Actor) -> list[str] | None:
    """The app ids whose usage ``actor`` may read (an owner's bots, an admin's account's
    apps; None: every app, placed in an account or not, for an operator)."""
    with sessions() as session:
        return accounts.visible_apps(session, actor)
