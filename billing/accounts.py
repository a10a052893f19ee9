"""Accounts (workspaces): their billing profile, memberships (a user's role in an account;
a user may belong to several), and which account each app belongs to. An app seen only in
events belongs to none: only operators see it until ``subscribe`` or ``apps move`` places it.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.access import ROLES, Actor, require_admin
from billing.errors import ConflictError, InvalidError, NotFoundError
from billing.models import Account, AppAccount, Membership, Subscription, User

DEFAULT_ACCOUNT = "default"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,189}")
PROFILE = {
    "legal_name": 200,
    "address": 1000,
    "country": 64,
    "tax_id": 64,
    "billing_email": 254,
}


def account_named(session: Session, name: str | None) -> Account:
    """The account ``name`` (the default one for None); ``NotFoundError`` otherwise."""
    found = session.scalar(select(Account).where(Account.name == (name or DEFAULT_ACCOUNT)))
    if found is None:
        raise NotFoundError(f"unknown account {(name or DEFAULT_ACCOUNT)[:128]!r}")
    return found


def account_json(account: Account) -> dict[str, Any]:
    """An account and its billing profile (its address as lines)."""
    return {
        "name": account.name,
        "legal_name": account.legal_name,
        "address": [line for line in account.address.split("\n") if line],
        "country": account.country,
        "tax_id": account.tax_id,
        "billing_email": account.billing_email,
    }


def _has_control(text: str) -> bool:
    """Whether ``text`` holds a control character (printed on invoices: NUL, escapes, tabs
    and the like have no place there; the address's line breaks are taken out first)."""
    return any(unicodedata.category(char) == "Cc" for char in text)


def _profile(values: dict[str, str | None]) -> dict[str, str]:
    checked: dict[str, str] = {}
    for field, limit in PROFILE.items():
        value = values.get(field)
        if value is None:
            continue
        value = value.strip()
        if len(value) > limit:
            raise InvalidError(f"{field} is at most {limit} characters")
        if _has_control(value.replace("\n", "") if field == "address" else value):
            raise InvalidError(f"{field} may not hold control characters")
        if field == "billing_email" and value and _EMAIL.fullmatch(value) is None:
            raise InvalidError(f"billing email {value[:64]!r} is not an e-mail address")
        checked[field] = value
    return checked


def add_account(
    session: Session, name: str, profile: dict[str, str | None], now_ms: int
) -> Account:
    """A new account with its billing profile."""
    if _NAME.fullmatch(name) is None:
        raise InvalidError(f"account name {name[:64]!r} must be 1-128 letters, digits or ._-")
    if session.scalar(select(Account.id).where(Account.name == name)) is not None:
        raise ConflictError(f"account {name!r} already exists")
    account = Account(name=name, created_ms=now_ms, **_profile(profile))
    session.add(account)
    session.flush()
    return account


def set_profile(session: Session, name: str, profile: dict[str, str | None]) -> Account:
    """Change the billing profile fields given (None: unchanged)."""
    account = account_named(session, name)
    for field, value in _profile(profile).items():
        setattr(account, field, value)
    return account


def join(session: Session, user: User, account: Account, role: str) -> Membership:
    """``user`` gets ``role`` in ``account``."""
    if role not in ROLES:
        raise InvalidError(f"an account role is one of {', '.join(ROLES)}, not {role!r}")
    if session.get(Membership, (account.id, user.id)) is not None:
        raise ConflictError(f"user {user.name!r} already exists in account {account.name!r}")
    membership = Membership(account_id=account.id, user_id=user.id, role=role)
    session.add(membership)
    session.flush()
    return membership


def role_in(session: Session, user_id: int, account_id: int | None) -> str | None:
    """The user's role in the account, or None."""
    if account_id is None:
        return None
    found = session.get(Membership, (account_id, user_id))
    return None if found is None else found.role


def memberships(session: Session, user_id: int) -> list[tuple[Account, str]]:
    """The accounts a user belongs to (oldest first) and their role in each."""
    rows = session.execute(
        select(Account, Membership.role)
        .join(Membership, Membership.account_id == Account.id)
        .where(Membership.user_id == user_id)
        .order_by(Account.id)
    )
    return [(row[0], row[1]) for row in rows]


#: Which account a user acts in when none is named: where their role is the widest.
_PREFERENCE = {"admin": 0, "owner": 1, "member": 2}


def actor_of(session: Session, user: User, account: str | None) -> Actor | None:
    """The actor ``user`` is in ``account``; None when they are not a member of the account
    named. Without a name: the oldest account where their role is the widest (a member of
    one account who is admin of another acts as that admin). An operator acts on every
    account, or on the one named (an existing one)."""
    if user.operator:
        return operator_in(session, user.name, user.id, account)
    joined = memberships(session, user.id)
    if account is None:
        joined.sort(key=lambda pair: _PREFERENCE.get(pair[1], len(_PREFERENCE)))
    for found, role in joined:
        if account is None or found.name == account:
            return Actor(user.name, role, user.id, found.id)
    return None if account is not None else Actor(user.name, "member", user.id)


def operator_in(
    session: Session, name: str, user_id: int | None, account: str | None
) -> Actor | None:
    """An operator, narrowed to ``account`` when one is named (None if there is no such)."""
    if not account:
        return Actor(name, "operator", user_id)
    found = session.scalar(select(Account).where(Account.name == account))
    return None if found is None else Actor(name, "operator", user_id, found.id)


def require_bot_owner(session: Session, user: User, account_id: int) -> None:
    """A bot's owner is an owner or an admin of its account (or an operator)."""
    if user.operator:
        return
    role = role_in(session, user.id, account_id)
    if role == "member":
        raise InvalidError(f"{user.name} is a member: a bot owner must be an owner or an admin")
    if role is None:
        raise InvalidError(f"{user.name} is not a user of this app's account")


def place(session: Session, app_id: str, account_id: int, now_ms: int) -> None:
    """Put ``app_id`` in the account (``subscribe``); refused if it is in another one."""
    placed = session.get(AppAccount, app_id)
    if placed is None:
        session.add(AppAccount(app_id=app_id, account_id=account_id, placed_ms=now_ms))
    elif placed.account_id != account_id:
        raise ConflictError(f"{app_id} belongs to another account: move it first (apps move)")


def move(session: Session, actor: Actor, app_id: str, to: str, now_ms: int) -> dict[str, Any]:
    """``apps move``: the app (and its subscription) goes to account ``to`` (operators)."""
    require_admin(actor, "move apps")
    if not actor.is_operator:
        raise InvalidError("only an operator may move apps between accounts")
    if not app_id or len(app_id) > 256:
        raise InvalidError("an app id is 1-256 characters")
    account = account_named(session, to)
    subscription = session.scalar(
        select(Subscription).where(Subscription.app_id == app_id).with_for_update()
    )
    if subscription is not None:
        require_bot_owner(session, session.get_one(User, subscription.owner_id), account.id)
        subscription.account_id = account.id
    placed = session.get(AppAccount, app_id)
    if placed is None:
        session.add(AppAccount(app_id=app_id, account_id=account.id, placed_ms=now_ms))
    else:
        placed.account_id, placed.placed_ms = account.id, now_ms
    return {"app_id": app_id, "account": account.name}


def visible_apps(session: Session, actor: Actor) -> list[str] | None:
    """App ids whose usage ``actor`` may read (None: every app, placed or not: operators)."""
    if actor.is_operator and actor.account_id is None:
        return None
    if actor.is_admin:
        query = select(AppAccount.app_id).where(AppAccount.account_id == actor.account_id)
        return sorted(session.scalars(query))
    if actor.role == "owner":
        owned = select(Subscription.app_id).where(
            Subscription.account_id == actor.account_id, Subscription.owner_id == actor.user_id
        )
        return sorted(session.scalars(owned))
    return []


def bill_to(session: Session, subscription: Subscription, owner: User) -> tuple[str, ...]:
    """The "Bill to" block of an app's invoices and receipts: its account's billing profile
    (legal name, address lines, country, tax id, billing e-mail), then the bot and its owner
    as reference lines."""
    account = (
        None if subscription.account_id is None else session.get(Account, subscription.account_id)
    )
    lines: list[str] = []
    if account is not None:
        lines.append(account.legal_name or account.name)
        lines += [line for line in account.address.split("\n") if line]
        lines += [account.country] if account.country else []
        lines += [f"VAT/Tax ID: {account.tax_id}"] if account.tax_id else []
        lines += [account.billing_email] if account.billing_email else []
    return (*lines, f"Reference: bot {subscription.app_id}", f"Bot owner: {owner.name}")
