"""The console's account operations: who is signed in and in which account, and switching
(one transaction each, like ``billing.operations``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import accounts, keys
from billing.access import Actor
from billing.errors import ForbiddenError, InvalidError
from billing.models import Account
from billing.operations import Sessions


def whoami(sessions: Sessions, actor: Actor) -> dict[str, Any]:
    """Who is signed in, the account they act in and the accounts they may switch to."""
    with sessions() as session:
        if actor.is_operator:  # any account to pick from, or all of them ("")
            every = list(session.scalars(select(Account).order_by(Account.id)))
            joined = [(a, "operator") for a in every]
        elif actor.user_id is None:
            joined = []
        else:
            joined = accounts.memberships(session, actor.user_id)
        current = next((a.name for a, _ in joined if a.id == actor.account_id), None)
        return {
            "name": actor.name,
            "role": actor.role,
            "account": current,
            "accounts": [{"name": a.name, "role": role} for a, role in joined],
        }


def switch_account(sessions: Sessions, cookie: str, actor: Actor, account: str) -> None:
    """The console session acts in ``account`` from its next request."""
    with sessions.begin() as session:
        keys.switch_account(session, cookie, actor, account)


def _profile_account(session: Session, actor: Actor) -> Account:
    """The account whose profile ``actor`` may read and change: the one they act in, as
    its admin or an owner in it (an operator: the account it picked)."""
    if actor.role not in ("operator", "admin", "owner"):
        raise ForbiddenError("only an admin or an owner may see the billing profile")
    if actor.account_id is None:
        raise InvalidError("name the account (X-Billing-Account) whose profile this is")
    return session.get_one(Account, actor.account_id)


def billing_profile(sessions: Sessions, actor: Actor) -> dict[str, Any]:
    """``GET /api/account/profile``: the "Bill to" of the account's invoices."""
    with sessions() as session:
        return accounts.account_json(_profile_account(session, actor))


def set_billing_profile(
    sessions: Sessions, actor: Actor, profile: dict[str, str | None]
) -> dict[str, Any]:
    """``PUT /api/account/profile``: change the fields given (checked before any is)."""
    with sessions.begin() as session:
        account = _profile_account(session, actor)
        return accounts.account_json(accounts.set_profile(session, account.name, profile))
