"""Issue #23 (4, 5) over HTTP: ``plan-options`` lists only the plans the caller may move a
bot to (an owner fewer than an admin), a move to any other is 409 with a JSON error and
changes nothing; and the account's billing profile (the invoices' "Bill to") is read and
set by its admins and owners through ``/api/account/profile``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp import web

from billing import plan_operations as plan_ops
from billing.access import OPERATOR
from billing.catalog import Revision
from billing.operations import Sessions
from tests.billing.helpers import NOW, snapshot, subscribe
from tests.billing.test_api import call, make_app


def codes(answer: Any) -> list[str]:
    return [plan["code"] for plan in answer]


def test_options_per_role_and_409_for_the_rest(tmp_path: Path) -> None:
    asyncio.run(options_per_role(*make_app(f"sqlite:///{tmp_path / 'b.db'}")))


async def options_per_role(app: web.Application, keys: dict[str, str], sessions: Sessions) -> None:
    # bot-2 (carol's) is on starter and paid its fee: no trial, no enterprise for an owner
    carol = await call(app, "GET", "/api/subscriptions/bot-2/plan-options", keys["carol"])
    admin = await call(app, "GET", "/api/subscriptions/bot-2/plan-options", keys["admin"])
    assert (carol[0], codes(carol[1])) == (200, ["pro", "termpro"])
    assert (admin[0], codes(admin[1])) == (200, ["corp", "pro", "termpro", "trial"])
    stranger = await call(app, "GET", "/api/subscriptions/bot-2/plan-options", keys["alice"])
    assert stranger[0] == 404 and "error" in stranger[1]
    before = snapshot(sessions)
    for plan, words in (("corp", "only an admin"), ("trial", "past its trial"), ("euro", "EUR")):
        body = {"plan": plan}
        status, answer = await call(
            app, "POST", "/api/subscriptions/bot-2/plan", keys["carol"], body
        )
        assert status == 409 and words in answer["error"], answer
        preview = f"/api/subscriptions/bot-2/plan-preview?plan={plan}"
        status, answer = await call(app, "GET", preview, keys["carol"])
        assert status == 409 and words in answer["error"], answer
    assert snapshot(sessions) == before


def test_a_plans_list_of_moves_is_what_owners_get(tmp_path: Path) -> None:
    asyncio.run(list_of_moves(*make_app(f"sqlite:///{tmp_path / 'b.db'}")))


async def list_of_moves(app: web.Application, keys: dict[str, str], sessions: Sessions) -> None:
    plan_ops.revise_plan(sessions, OPERATOR, "starter", Revision(changes_to="pro"), NOW)
    subscribe(sessions, "bot-3", plan="starter", owner="carol")  # on version 2
    path = "/api/subscriptions/bot-3/plan-options"
    status, answer = await call(app, "GET", path, keys["carol"])
    assert (status, codes(answer)) == (200, ["pro"])
    refused = await call(
        app, "POST", "/api/subscriptions/bot-3/plan", keys["carol"], {"plan": "termpro"}
    )
    assert refused[0] == 409 and "allows moves to pro only" in refused[1]["error"]
    moved = await call(app, "POST", "/api/subscriptions/bot-3/plan", keys["carol"], {"plan": "pro"})
    assert moved[0] == 200 and moved[1]["status"] == "done"  # an upgrade, charged now


def test_an_enterprise_bot_is_not_offered_prepaid_plans_by_owners(tmp_path: Path) -> None:
    asyncio.run(enterprise_bot(*make_app(f"sqlite:///{tmp_path / 'b.db'}")))


async def enterprise_bot(app: web.Application, keys: dict[str, str], sessions: Sessions) -> None:
    subscribe(sessions, "corp-bot", plan="corp", owner="carol")
    path = "/api/subscriptions/corp-bot/plan-options"
    owner = await call(app, "GET", path, keys["carol"])
    admin = await call(app, "GET", path, keys["admin"])
    assert owner == (200, [])  # "enterprise -> pro" is no owner's downgrade
    assert codes(admin[1]) == ["pro", "starter", "termpro", "trial"]
    refused = await call(
        app, "POST", "/api/subscriptions/corp-bot/plan", keys["carol"], {"plan": "pro"}
    )
    assert refused[0] == 409 and "only an admin" in refused[1]["error"]


def test_the_billing_profile_is_set_by_owners_and_admins(tmp_path: Path) -> None:
    asyncio.run(billing_profile(*make_app(f"sqlite:///{tmp_path / 'b.db'}")))


async def billing_profile(app: web.Application, keys: dict[str, str], sessions: Sessions) -> None:
    profile = {
        "legal_name": "Acme Robotics GmbH",
        "address": ["Hauptstrasse 5", "10115 Berlin"],
        "country": "Germany",
        "tax_id": "DE123456789",
        "billing_email": "billing@acme.example",
    }
    put = await call(app, "PUT", "/api/account/profile", keys["alice"], profile)
    assert put[0] == 200 and {k: put[1][k] for k in profile} == profile
    partial = {"country": "Deutschland"}  # fields left out stay as they are
    put = await call(app, "PUT", "/api/account/profile", keys["admin"], partial)
    got = await call(app, "GET", "/api/account/profile", keys["carol"])
    assert got == (200, {**put[1], "country": "Deutschland"}) and put[0] == 200
    assert got[1]["legal_name"] == "Acme Robotics GmbH"
    before = snapshot(sessions)
    for key, body, status, words in (
        ("bob", {"country": "France"}, 403, "no access"),
        ("alice", {"billing_email": "not-an-email"}, 400, "e-mail"),
        ("alice", {"vat": "x"}, 400, "unknown profile field 'vat'"),
        ("alice", {"address": [1, 2]}, 400, "list of lines"),
        ("alice", {"legal_name": "x" * 201}, 400, "legal_name"),
        ("alice", {"legal_name": "Acme\u0000"}, 400, "control characters"),
        ("alice", {"address": ["Hauptstrasse 5\u001b[2J"]}, 400, "control characters"),
    ):
        answer = await call(app, "PUT", "/api/account/profile", keys[key], body)
        assert answer[0] == status and words in answer[1]["error"], answer
    assert snapshot(sessions) == before
