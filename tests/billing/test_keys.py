"""Keys over their lifetime, on both stores: expiry, revocation and rotation end the key and
every console session opened with it; a token session ends when the token changes."""

from __future__ import annotations

import pytest

from billing import keys
from billing import operations as ops
from billing.access import OPERATOR
from billing.errors import ConflictError, NotFoundError
from billing.operations import Sessions
from tests.billing.helpers import NOW, seed

DAY = keys.DAY_MS


def signed_in(sessions: Sessions, key: str, token: str | None = None) -> str:
    with sessions.begin() as session:
        actor = keys.actor_for_key(session, key, token, NOW)
        assert actor is not None
        return keys.open_web_session(session, actor, key, NOW)


def cookie_actor(sessions: Sessions, cookie: str, token: str | None = None, at: int = NOW) -> str:
    with sessions() as session:
        actor = keys.actor_for_cookie(session, cookie, token, at)
        return "-" if actor is None else actor.name


def key_actor(sessions: Sessions, key: str, at: int = NOW) -> str:
    with sessions() as session:
        actor = keys.actor_for_key(session, key, None, at)
        return "-" if actor is None else actor.name


def test_revoking_ends_the_key_and_its_sessions(sessions: Sessions) -> None:
    seeded = seed(sessions)
    cookie = signed_in(sessions, seeded.keys["alice"])
    other = signed_in(sessions, seeded.keys["carol"])
    assert cookie_actor(sessions, cookie) == "alice"
    with sessions.begin() as session:
        assert keys.revoke(session, "alice", NOW)["sessions_ended"] == 1
    assert (cookie_actor(sessions, cookie), key_actor(sessions, seeded.keys["alice"])) == ("-", "-")
    assert cookie_actor(sessions, other) == "carol"  # others keep theirs
    with sessions.begin() as session, pytest.raises(ConflictError):
        keys.revoke(session, "alice", NOW)
    with sessions.begin() as session, pytest.raises(ConflictError):
        keys.rotate(session, "alice", None)


def test_rotating_replaces_the_key_and_ends_the_sessions(sessions: Sessions) -> None:
    seeded = seed(sessions)
    cookie = signed_in(sessions, seeded.keys["carol"])
    with sessions.begin() as session:
        rotated = keys.rotate(session, "carol", None)
    assert rotated["sessions_ended"] == 1
    assert cookie_actor(sessions, cookie) == "-"
    assert key_actor(sessions, seeded.keys["carol"]) == "-"
    assert key_actor(sessions, rotated["api_key"]) == "carol"
    with sessions.begin() as session, pytest.raises(NotFoundError):
        keys.rotate(session, "zed", None)


def test_a_key_expires_and_its_sessions_with_it(sessions: Sessions) -> None:
    seed(sessions)
    key = ops.add_user(sessions, OPERATOR, "temp", "owner", NOW, expires_ms=NOW + DAY)["api_key"]
    cookie = signed_in(sessions, key)
    assert (key_actor(sessions, key), cookie_actor(sessions, cookie)) == ("temp", "temp")
    later = NOW + DAY
    assert (key_actor(sessions, key, later), cookie_actor(sessions, cookie, at=later)) == ("-", "-")
    with sessions() as session:
        listed = {u["name"]: u["key"] for u in keys.list_users(session, later)}
    assert listed["temp"] == "expired" and listed["alice"] == "active"


def test_a_token_session_ends_when_the_token_changes(sessions: Sessions) -> None:
    seed(sessions)
    cookie = signed_in(sessions, "old-token", token="old-token")  # noqa: S106
    assert cookie_actor(sessions, cookie, "old-token") == "operator"
    assert cookie_actor(sessions, cookie, "new-token") == "-"
    assert cookie_actor(sessions, cookie, None) == "-"


def test_removing_a_user_ends_their_sessions_unless_they_own_a_bot(sessions: Sessions) -> None:
    seeded = seed(sessions)
    ops.subscribe(
        sessions,
        OPERATOR,
        app_id="bot-1",
        plan="starter",
        owner="alice",
        start="2026-11-01",
        tz="UTC",
        low_balance=None,
        now_ms=NOW,
    )
    cookie = signed_in(sessions, seeded.keys["carol"])
    with sessions.begin() as session, pytest.raises(ConflictError, match="owns bot-1"):
        keys.remove_user(session, "alice")
    with sessions.begin() as session:
        assert keys.remove_user(session, "carol")["sessions_ended"] == 1
    assert (cookie_actor(sessions, cookie), key_actor(sessions, seeded.keys["carol"])) == ("-", "-")
