"""API keys and console sessions over their lifetime: a key may expire, be revoked or be
rotated; a console session holds the SHA-256 of the credential it was opened with and is
checked against the current one on every request. So revoking or rotating a key, removing
a user, or changing ``BILLING_API_TOKEN`` ends the console sessions at once.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from billing.access import OPERATOR, Actor, key_hash, new_key
from billing.accounts import actor_of, operator_in
from billing.errors import ConflictError, NotFoundError
from billing.models import Account, Membership, Subscription, User, WebSession
from billing.periods import iso

SESSION_DAYS = 7
DAY_MS = 86_400_000


def usable(user: User, now_ms: int) -> bool:
    """The user's key works now: not revoked, not expired."""
    expires = user.key_expires_ms
    return user.revoked_ms is None and (expires is None or now_ms < expires)


def actor_for_key(
    session: Session, key: str, admin_token: str | None, now_ms: int, account: str | None = None
) -> Actor | None:
    """The actor an API key names: ``BILLING_API_TOKEN`` is the operator, else a stored
    user whose key is neither revoked nor expired, acting in ``account`` (default: their
    first); None when they are not in the account named."""
    if admin_token and hmac.compare_digest(key.encode(), admin_token.encode()):
        return operator_in(session, OPERATOR.name, None, account)
    user = session.scalar(select(User).where(User.key_hash == key_hash(key)))
    if user is None or not usable(user, now_ms):
        return None
    return actor_of(session, user, account)


def open_web_session(session: Session, actor: Actor, credential: str, now_ms: int) -> str:
    """Sign ``actor`` in to the console with ``credential`` (the key or token it gave): a
    random cookie value; the store keeps its SHA-256 and the credential's."""
    cookie = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            id_hash=key_hash(cookie),
            user_id=actor.user_id,
            name=actor.name,
            role=actor.role,
            created_ms=now_ms,
            expires_ms=now_ms + SESSION_DAYS * DAY_MS,
            credential_hash=key_hash(credential),
            account_id=actor.account_id,
        )
    )
    return cookie


def actor_for_cookie(
    session: Session, cookie: str, admin_token: str | None, now_ms: int
) -> Actor | None:
    """The actor a console cookie names, while the session has not expired and the
    credential it was opened with is still the current, usable one."""
    row = session.get(WebSession, key_hash(cookie))
    if row is None or row.expires_ms <= now_ms or row.credential_hash is None:
        return None
    account = None if row.account_id is None else session.get(Account, row.account_id)
    picked = None if account is None else account.name
    if row.user_id is None:  # opened with BILLING_API_TOKEN: only while it is unchanged
        current = key_hash(admin_token) if admin_token else ""
        if not hmac.compare_digest(row.credential_hash, current):
            return None
        return operator_in(session, OPERATOR.name, None, picked)
    user = session.get(User, row.user_id)
    if user is None or not usable(user, now_ms) or user.key_hash != row.credential_hash:
        return None
    return actor_of(session, user, picked)


def switch_account(session: Session, cookie: str, actor: Actor, account: str) -> Actor:
    """The console session acts in ``account`` from now on (one the user belongs to; an
    operator picks any, or every one with ``""``)."""
    row = session.get(WebSession, key_hash(cookie))
    if actor.is_operator:
        switched = operator_in(session, actor.name, actor.user_id, account)
    else:
        user = None if actor.user_id is None else session.get(User, actor.user_id)
        switched = None if user is None or not account else actor_of(session, user, account)
    if row is None or switched is None:
        raise NotFoundError(f"unknown account {account[:128]!r}")
    row.account_id, row.role = switched.account_id, switched.role
    return switched


def close_web_session(session: Session, cookie: str) -> None:
    """Sign out: the cookie stops working."""
    row = session.get(WebSession, key_hash(cookie))
    if row is not None:
        session.delete(row)


def _named(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name).with_for_update())
    if user is None:
        raise NotFoundError(f"unknown user {name!r}")
    return user


def _end_sessions(session: Session, user: User) -> int:
    ended = session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    return int(getattr(ended, "rowcount", 0) or 0)


def revoke(session: Session, name: str, now_ms: int) -> dict[str, Any]:
    """The user's key stops working and their console sessions end."""
    user = _named(session, name)
    if user.revoked_ms is not None:
        raise ConflictError(f"user {name!r} is already revoked")
    user.revoked_ms = now_ms
    return {"name": name, "revoked": True, "sessions_ended": _end_sessions(session, user)}


def remove_user(session: Session, name: str) -> dict[str, Any]:
    """The user is gone: their key, memberships and console sessions at once. Refused while
    they own a bot (change its owner first)."""
    user = _named(session, name)
    owned = session.scalar(select(Subscription.app_id).where(Subscription.owner_id == user.id))
    if owned is not None:
        raise ConflictError(f"user {name!r} owns {owned}: give it another owner first")
    ended = _end_sessions(session, user)
    session.execute(delete(Membership).where(Membership.user_id == user.id))
    session.delete(user)
    return {"name": name, "removed": True, "sessions_ended": ended}


def rotate(session: Session, name: str, expires_ms: int | None) -> dict[str, Any]:
    """A new key for the user (shown once); the old one and its sessions end at once."""
    user = _named(session, name)
    if user.revoked_ms is not None:
        raise ConflictError(f"user {name!r} is revoked: add a new user instead")
    key = new_key()
    user.key_hash, user.key_expires_ms = key_hash(key), expires_ms
    ended = _end_sessions(session, user)
    expires = None if expires_ms is None else iso(expires_ms, "UTC")
    return {"name": name, "api_key": key, "key_expires": expires, "sessions_ended": ended}


def list_users(session: Session, now_ms: int) -> list[dict[str, Any]]:
    """Every user with the state of their key and their open console sessions."""
    open_sessions = dict(
        session.execute(
            select(WebSession.user_id, func.count())
            .where(WebSession.expires_ms > now_ms)
            .group_by(WebSession.user_id)
        ).all()
    )
    return [
        {
            "name": user.name,
            "role": user.role,
            "key": "revoked"
            if user.revoked_ms is not None
            else ("active" if usable(user, now_ms) else "expired"),
            "key_expires": None if user.key_expires_ms is None else iso(user.key_expires_ms, "UTC"),
            "console_sessions": int(open_sessions.get(user.id, 0)),
        }
        for user in session.scalars(select(User).order_by(User.name))
    ]
