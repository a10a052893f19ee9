"""The billing HTTP API over a real socket: every endpoint for every role, bad bodies,
and the same JSON as the CLI's operations."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from billing import db
from billing import operations as ops
from billing.access import OPERATOR
from tests.billing.helpers import NOW, seed, snapshot, starter, subscribe
from web.billing_api import BillingApi
from web.server import create_app

TOKEN = "admin-token-for-tests"  # noqa: S105 - a test credential


def make_app(url: str) -> tuple[web.Application, dict[str, str], ops.Sessions]:
    sessions = db.open_store(url)
    seeded = seed(sessions)
    ops.add_plan(sessions, OPERATOR, starter("termpro", fee="99.00", term_days=30), NOW)
    subscribe(sessions, "bot-1", plan="termpro", owner="alice")
    subscribe(sessions, "bot-2", plan="starter", owner="carol")
    ops.request_extension(sessions, OPERATOR, "bot-1", days=5, reason="pilot", now_ms=NOW)
    ops.change_plan(sessions, OPERATOR, "bot-1", "starter", NOW)  # a downgrade to cancel
    api = BillingApi(sessions, TOKEN, clock=lambda: NOW)
    keys = {**seeded.keys, "admin": seeded.keys["root"], "token": TOKEN}
    return create_app(CollectorRegistry(), dict, None, api), keys, sessions


async def call(
    app: web.Application, method: str, path: str, key: str | None, body: Any = None
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with TestClient(TestServer(app)) as client:
        response = await client.request(method, path, json=body, headers=headers)
        return response.status, await response.json()


ENDPOINTS: list[tuple[str, str, Any]] = [
    ("GET", "/api/plans", None),
    ("GET", "/api/subscriptions", None),
    ("GET", "/api/subscriptions/bot-1", None),
    ("POST", "/api/subscriptions/bot-1/funds", {"amount": "10.00", "idempotency_key": "k"}),
    ("POST", "/api/subscriptions/bot-1/plan", {"plan": "pro"}),
    ("DELETE", "/api/subscriptions/bot-1/plan-change", None),
    ("POST", "/api/subscriptions/bot-1/extensions", {"days": 7, "reason": "launch"}),
    ("POST", "/api/extensions/1/approve", None),
    ("POST", "/api/extensions/1/reject", None),
    ("POST", "/api/subscriptions/bot-1/owner", {"owner": "carol"}),
    ("GET", "/api/ledger?app=bot-1", None),
    ("GET", "/api/notifications?app=bot-1", None),
    ("GET", "/api/invoices?app=bot-1", None),
    ("GET", "/api/orders?app=bot-1", None),
    ("GET", "/api/subscriptions/bot-1/plan-preview?plan=pro", None),
    ("GET", "/api/subscriptions/bot-1/plan-options", None),
    ("GET", "/api/extensions?app=bot-1", None),
    ("GET", "/api/users", None),
]
ADMIN_ONLY = {
    "/api/extensions/1/approve",
    "/api/extensions/1/reject",
    "/api/subscriptions/bot-1/owner",
    "/api/users",
}
SHARED = {"/api/plans", "/api/subscriptions"}  # lists: each caller sees their own part


def expected(who: str, path: str) -> int:
    if who == "nobody":
        return 401
    if who == "bob":
        return 403
    if who in ("admin", "token"):
        return 200
    if path in ADMIN_ONLY:
        return 403
    if who == "carol" and path not in SHARED:
        return 404  # bot-1 is alice's: it answers like an app that does not exist
    return 200


@pytest.mark.parametrize("who", ["admin", "token", "alice", "carol", "bob", "nobody"])
@pytest.mark.parametrize(
    ("method", "path", "body"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS]
)
def test_every_endpoint_checks_the_role(
    tmp_path: Path, who: str, method: str, path: str, body: Any
) -> None:
    app, keys, sessions = make_app(f"sqlite:///{tmp_path / 'b.db'}")
    before = snapshot(sessions)
    status, answer = asyncio.run(call(app, method, path, keys.get(who), body))
    assert status == expected(who, path), answer
    if status != 200:
        assert isinstance(answer["error"], str) and answer["error"]
        assert snapshot(sessions) == before
    elif path == "/api/subscriptions":
        apps = {"alice": ["bot-1"], "carol": ["bot-2"]}.get(who, ["bot-1", "bot-2"])
        assert [s["app_id"] for s in answer] == apps


BAD_BODIES: list[tuple[str, str, Any, int, str]] = [
    ("POST", "/api/subscriptions/bot-1/funds", {"amount": 10.5}, 400, "decimal string"),
    ("POST", "/api/subscriptions/bot-1/funds", {"amount": "-1"}, 400, "positive"),
    ("POST", "/api/subscriptions/bot-1/funds", {"amount": "0"}, 400, "positive"),
    ("POST", "/api/subscriptions/bot-1/funds", {"amount": "1.001"}, 400, "decimal places"),
    ("POST", "/api/subscriptions/bot-1/funds", [], 400, "JSON object"),
    ("POST", "/api/subscriptions/nope/funds", {"amount": "1"}, 404, "unknown app"),
    ("POST", "/api/subscriptions/bot-1/plan", {"plan": "nope"}, 404, "unknown plan"),
    ("POST", "/api/subscriptions/bot-1/plan", {"plan": "euro"}, 409, "EUR"),
    ("POST", "/api/subscriptions/bot-2/extensions", {"days": 3}, 409, "no term"),
    ("POST", "/api/subscriptions/bot-1/extensions", {"days": 91}, 400, "1-90"),
    ("POST", "/api/subscriptions/bot-1/extensions", {"days": "3"}, 400, "whole number"),
    ("POST", "/api/extensions/x/approve", None, 400, "not a number"),
    ("POST", "/api/extensions/99/approve", None, 404, "unknown extension"),
    ("POST", "/api/subscriptions/bot-1/owner", {"owner": "bob"}, 400, "member"),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "message"), BAD_BODIES)
def test_bad_calls_get_4xx_with_a_json_error_and_change_nothing(
    tmp_path: Path, method: str, path: str, body: Any, *, status: int, message: str
) -> None:
    app, keys, sessions = make_app(f"sqlite:///{tmp_path / 'b.db'}")
    before = snapshot(sessions)
    got, answer = asyncio.run(call(app, method, path, keys["admin"], body))
    assert (got, message in answer["error"]) == (status, True), answer
    assert snapshot(sessions) == before


def test_the_api_and_the_cli_operations_answer_the_same_json(db_url: str) -> None:
    app, keys, sessions = make_app(db_url)

    async def flow() -> list[tuple[int, Any]]:
        return [
            await call(
                app, "POST", "/api/subscriptions/bot-1/funds", keys["alice"], {"amount": "150.00"}
            ),
            await call(app, "POST", "/api/extensions/1/approve", keys["admin"]),
            await call(app, "GET", "/api/subscriptions/bot-1", keys["alice"]),
        ]

    funded, approved, view = asyncio.run(flow())
    assert funded[0] == approved[0] == view[0] == 200
    assert funded[1]["amount"] == "150.00" and funded[1]["requested_by"] == "alice"
    assert approved[1]["status"] == "approved"
    assert view[1] == ops.subscriptions(sessions, OPERATOR, "bot-1", NOW)[0]
    assert view[1]["balance"] == "51.00"  # 150.00 - 99.00
    assert view[1]["ends_at"] == "2026-12-06T00:00:00Z"  # Nov 1 + 30 days + 5


def test_enterprise_bots_have_no_orders_and_invoices(tmp_path: Path) -> None:
    app, keys, sessions = make_app(f"sqlite:///{tmp_path / 'b.db'}")
    subscribe(sessions, "corp-bot", plan="corp", owner="alice")

    async def calls() -> list[tuple[int, Any]]:
        return [
            await call(app, "GET", "/api/invoices?app=corp-bot", keys["admin"]),
            await call(app, "GET", "/api/orders?app=corp-bot", keys["alice"]),
            await call(app, "GET", "/api/invoices", keys["alice"]),
            await call(app, "GET", "/api/me", keys["alice"]),
            await call(app, "GET", "/api/me", keys["bob"]),
        ]

    invoices, orders, listing, me, member = asyncio.run(calls())
    assert invoices[0] == orders[0] == 403
    assert "Enterprise plan" in invoices[1]["error"]
    assert listing[0] == 200 and {i["app_id"] for i in listing[1]} == {"bot-1"}
    assert me == (
        200,
        {
            "name": "alice",
            "role": "owner",
            "account": "default",
            "accounts": [{"name": "default", "role": "owner"}],
        },
    )
    # a member sees who they are (to switch to an account where they are more), no billing
    assert member == (
        200,
        {
            "name": "bob",
            "role": "member",
            "account": "default",
            "accounts": [{"name": "default", "role": "member"}],
        },
    )
