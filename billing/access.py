"""Who may do what (BILLING-SPEC §7): users, hashed API keys, roles, accounts.

Platform operators (``BILLING_API_TOKEN``, the CLI, users added with ``--role operator``)
act on every account. Everyone else acts in one account at a time, with their role in it:
an admin on every app of the account, an owner on their own bots, a member on nothing.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.errors import ConflictError, ForbiddenError, InvalidError, NotFoundError
from billing.models import Subscription, User

ROLES = ("admin", "owner", "member")  # in an account
USER_ROLES = ("operator", *ROLES)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,127}")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is calling: a user (``user_id``) acting in ``account_id`` with their role there,
    or an operator (the CLI, ``BILLING_API_TOKEN``, an operator user: every account)."""

    name: str
    role: str
    user_id: int | None = None
    account_id: int | None = None

    @property
    def is_operator(self) -> bool:
        """Operators see and act on every account."""
        return self.role == "operator"

    @property
    def is_admin(self) -> bool:
        """Admins may do everything for the apps of their account; operators for all."""
        return self.role in ("operator", "admin")


OPERATOR = Actor("operator", "operator")


def key_hash(key: str) -> str:
    """What the store keeps of an API key: its SHA-256 (keys are 192 random bits)."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    """A fresh API key: 192 random bits."""
    return "bk_" + secrets.token_urlsafe(24)


def add_user(
    session: Session, name: str, role: str, now_ms: int, expires_ms: int | None = None
) -> tuple[User, str]:
    """Create a user; returns it and its API key (shown once, stored hashed), valid until
    ``expires_ms`` when given. An account role is given by a membership (``billing.accounts``)."""
    if _NAME.fullmatch(name) is None:
        raise InvalidError(f"user name {name!r} must be 1-128 letters, digits or ._@-")
    if role not in USER_ROLES:
        raise InvalidError(f"role {role!r} must be one of {', '.join(USER_ROLES)}")
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise ConflictError(f"user {name!r} already exists")
    key = new_key()
    user = User(
        name=name,
        role="admin" if role == "operator" else role,
        operator=role == "operator",
        key_hash=key_hash(key),
        created_ms=now_ms,
        key_expires_ms=expires_ms,
    )
    session.add(user)
    session.flush()
    return user, key


def require_billing(actor: Actor) -> None:
    """Members have no billing access at all."""
    if actor.role not in ("operator", "admin", "owner"):
        raise ForbiddenError(f"{actor.name} ({actor.role}) has no access to billing")


def require_admin(actor: Actor, what: str) -> None:
    """Refuse unless ``actor`` is an admin."""
    if not actor.is_admin:
        raise ForbiddenError(f"only an admin may {what}")


def can_see(actor: Actor, subscription: Subscription) -> bool:
    """Operators see every app (of the account they picked, if they did); admins every app
    of their account; owners their own bots in it."""
    if actor.is_operator:
        return actor.account_id is None or subscription.account_id == actor.account_id
    if subscription.account_id is None or subscription.account_id != actor.account_id:
        return False
    return actor.role == "admin" or (
        actor.role == "owner" and subscription.owner_id == actor.user_id
    )


def unknown_app(app_id: str) -> str:
    """The one refusal for an app that does not exist or that the caller may not see."""
    return f"unknown app {app_id[:256]!r}"


def require_owner_or_admin(actor: Actor, subscription: Subscription) -> None:
    """Refuse unless ``actor`` is an admin or owns the app: another's app answers exactly
    like one that does not exist (404), so ids cannot be probed."""
    require_billing(actor)
    if not can_see(actor, subscription):
        raise NotFoundError(unknown_app(subscription.app_id))
