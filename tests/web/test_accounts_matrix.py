"""The access matrix across two accounts: every endpoint and page of account acme's
resources x the operator, acme's admin, owner and member, beta's admin, a revoked key and
no key. Nothing of acme is visible to beta: its resources answer like missing ones."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from billing import accounts
from billing.models import Order, User
from tests.billing.helpers import snapshot
from tests.web.accounts_app import TwoAccounts, two_accounts

WHO = ["op", "a-admin", "a-owner", "a-member", "b-admin", "revoked", "nobody"]
ENDPOINTS: list[tuple[str, str, Any]] = [
    ("GET", "/api/plans", None),
    ("GET", "/api/subscriptions", None),
    ("GET", "/api/subscriptions/bot-a", None),
    ("POST", "/api/subscriptions/bot-a/funds", {"amount": "10.00"}),
    ("POST", "/api/subscriptions/bot-a/plan", {"plan": "pro"}),
    ("DELETE", "/api/subscriptions/bot-a/plan-change", None),
    ("POST", "/api/subscriptions/bot-a/extensions", {"days": 7, "reason": "launch"}),
    ("POST", "/api/extensions/1/approve", None),
    ("POST", "/api/extensions/1/reject", None),
    ("POST", "/api/subscriptions/bot-a/owner", {"owner": "a-admin"}),
    ("GET", "/api/ledger?app=bot-a", None),
    ("GET", "/api/notifications?app=bot-a", None),
    ("GET", "/api/invoices?app=bot-a", None),
    ("GET", "/api/orders?app=bot-a", None),
    ("GET", "/api/orders/{topup}/receipt.pdf", None),
    ("GET", "/api/subscriptions/bot-a/plan-preview?plan=pro", None),
    ("GET", "/api/subscriptions/bot-a/plan-options", None),
    ("GET", "/api/account/profile", None),
    ("PUT", "/api/account/profile", {"legal_name": "Robotics GmbH"}),
    ("GET", "/api/extensions?app=bot-a", None),
    ("GET", "/api/users", None),
    ("GET", "/api/me", None),
    ("GET", "/api/usage?app=bot-a", None),
    ("GET", "/api/apps", None),
    ("GET", "/usage", None),
    ("GET", "/plans", None),
    ("GET", "/invoices", None),
]
ADMIN_ONLY = {"/api/extensions/1/approve", "/api/extensions/1/reject", "/api/users"}
ADMIN_ONLY |= {"/api/subscriptions/bot-a/owner"}
OWN_LISTS = {"/api/plans", "/api/subscriptions", "/api/users", "/api/me", "/api/apps"}
OWN_LISTS |= {"/api/account/profile"}  # the caller's own account's
ONE_ACCOUNT = {"/api/account/profile"}  # an operator names which (X-Billing-Account)
PAGES = {"/usage", "/plans", "/invoices"}
IDS = [f"{m} {p}" for m, p, _ in ENDPOINTS]


def expected(who: str, path: str) -> int:
    if who in ("nobody", "revoked"):
        return 401
    if who == "a-member":  # who they are, so a member here can switch to where they are more
        return 200 if path == "/api/me" else 403
    if who == "op" and path in ONE_ACCOUNT:
        return 400
    if who in ("op", "a-admin"):
        return 200
    if who == "a-owner":
        return 403 if path in ADMIN_ONLY else 200
    # beta's admin: acme's resources do not exist for them; lists and pages show beta's
    return 200 if path in OWN_LISTS | PAGES else 404


def topup_id(world: TwoAccounts) -> int:
    with world.sessions() as session:
        return session.scalars(select(Order.id).where(Order.kind == "topup")).one()


async def call(world: TwoAccounts, method: str, path: str, key: str | None, body: Any) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with TestClient(TestServer(world.app)) as client:
        response = await client.request(method, path, json=body, headers=headers)
        return response.status, await response.read()


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize(
    ("method", "path", "body"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS]
)
def test_every_endpoint_and_page_across_two_accounts(
    tmp_path: Path, who: str, method: str, path: str, body: Any
) -> None:
    world = two_accounts(f"sqlite:///{tmp_path / 'b.db'}")
    base = path.split("?", maxsplit=1)[0]
    path = path.replace("{topup}", str(topup_id(world)))
    before = snapshot(world.sessions)
    status, answer = asyncio.run(call(world, method, path, world.keys.get(who), body))
    assert status == expected(who, base), answer[:300]
    if status != 200:
        assert snapshot(world.sessions) == before
    if who == "b-admin":  # only the id it asked for, as an unknown one
        rest = answer.replace(b"unknown app 'bot-a'", b"")
        assert not {b"bot-a", b"a-owner", b"a-admin", b"acme", b"Acme"} & set(rest.split(b'"'))
        assert b"bot-a" not in rest and b"acme" not in rest.lower()


def test_lists_hold_only_the_callers_account(tmp_path: Path) -> None:
    world = two_accounts(f"sqlite:///{tmp_path / 'b.db'}")

    async def gets(calls: list[tuple[str, str]]) -> list[Any]:
        answers = []
        async with TestClient(TestServer(world.app)) as client:
            for path, who in calls:
                headers = {"Authorization": f"Bearer {world.keys[who]}"}
                response = await client.get(path, headers=headers)
                assert response.status == 200, await response.text()
                answers.append(orjson.loads(await response.read()))
        return answers

    *apps, usage, b_users, a_users, subscriptions, me = asyncio.run(
        gets(
            [
                *(("/api/apps", who) for who in ("op", "a-admin", "a-owner", "b-admin")),
                ("/api/usage?range=30d&by=month", "b-admin"),
                ("/api/users", "b-admin"),
                ("/api/users", "a-admin"),
                ("/api/subscriptions", "op"),
                ("/api/me", "b-admin"),
            ]
        )
    )
    # an app seen only in events (stray) is the operators' alone
    assert apps == [["bot-a", "bot-b", "stray"], ["bot-a"], ["bot-a"], ["bot-b"]]
    assert {r["app_id"] for r in usage} == {"bot-b"}
    assert [u["name"] for u in b_users] == ["b-admin"]
    assert {u["name"] for u in a_users} == {"a-admin", "a-owner"}
    assert [s["app_id"] for s in subscriptions] == ["bot-a", "bot-b"]
    assert me["account"] == "beta"


def test_an_operator_narrows_to_one_account_with_the_header(tmp_path: Path) -> None:
    world = two_accounts(f"sqlite:///{tmp_path / 'b.db'}")

    async def apps(account: str) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {world.keys['op']}", "X-Billing-Account": account}
        async with TestClient(TestServer(world.app)) as client:
            response = await client.get("/api/apps", headers=headers)
            return response.status, orjson.loads(await response.read())

    assert asyncio.run(apps("beta")) == (200, ["bot-b"])


def test_a_member_of_an_older_account_acts_where_they_are_admin(tmp_path: Path) -> None:
    """b-admin also joins acme (the older account) as a member: without a header they
    still act as beta's admin, and a member may always ask who they are."""
    world = two_accounts(f"sqlite:///{tmp_path / 'b.db'}")
    with world.sessions.begin() as session:
        user = session.scalars(select(User).where(User.name == "b-admin")).one()
        accounts.join(session, user, accounts.account_named(session, "acme"), "member")

    async def gets() -> list[tuple[int, Any]]:
        calls = [
            ("/api/me", "b-admin", None),
            ("/api/subscriptions", "b-admin", None),
            ("/api/subscriptions", "b-admin", "acme"),
            ("/api/me", "a-member", None),
        ]
        answers = []
        async with TestClient(TestServer(world.app)) as client:
            for path, who, account in calls:
                headers = {"Authorization": f"Bearer {world.keys[who]}"}
                if account is not None:
                    headers["X-Billing-Account"] = account
                response = await client.get(path, headers=headers)
                answers.append((response.status, orjson.loads(await response.read())))
        return answers

    (status, me), (listed, subscriptions), (in_acme, _), (member, _) = asyncio.run(gets())
    assert (status, me["account"], me["role"]) == (200, "beta", "admin")
    assert {a["name"]: a["role"] for a in me["accounts"]} == {"acme": "member", "beta": "admin"}
    assert listed == 200 and [s["app_id"] for s in subscriptions] == ["bot-b"]
    assert in_acme == 403 and member == 200
