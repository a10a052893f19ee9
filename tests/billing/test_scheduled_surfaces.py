"""A future-dated subscription (issue #23 item 3) as the CLI and the HTTP API show it:
``scheduled`` with its start, before and after funds, and no notice sent before it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web

from billing_meter.cli import main
from tests.billing.helpers import subscribe
from tests.billing.test_api import call, make_app

PLAN = [
    *("plans", "add", "starter", "--name", "Starter", "--currency", "USD", "--fee", "49.00"),
    *("--included", "billing_sessions=1000,voice_sessions=200,agents=2"),
    *("--price", "billing_sessions=0.05,voice_sessions=0.10,agents=15"),
]


def cli(capsys: pytest.CaptureFixture[str], url: str, *argv: str) -> Any:
    assert main([*argv, "--db", url]) == 0
    return capsys.readouterr().out


def test_the_cli_says_scheduled_and_when_until_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BILLING_NOW", "2026-12-07T12:00:00Z")
    url = f"sqlite:///{tmp_path / 'b.db'}"
    cli(capsys, url, "users", "add", "alice", "--role", "owner")
    cli(capsys, url, *PLAN)
    out = cli(
        capsys,
        url,
        *("subscribe", "app-1", "--plan", "starter", "--owner", "alice"),
        "--start",
        "2027-03-01",
    )
    created = orjson.loads(out)
    assert (created["status"], created["starts_on"], created["balance"]) == (
        "scheduled",
        "2027-03-01",
        "0.00",
    )
    funded = orjson.loads(cli(capsys, url, "funds", "add", "app-1", "10.00"))
    assert funded["subscription"]["status"] == "scheduled"  # funds do not start it
    header, row = cli(capsys, url, "balance", "--format", "table").splitlines()
    table = dict(zip(header.split(), row.split(), strict=True))
    assert (table["status"], table["balance"]) == ("scheduled", "10.00")
    assert table["period_start"] == "2027-03-01T00:00:00Z"  # its first period, not December
    ledger = orjson.loads(cli(capsys, url, "ledger", "--format", "json"))
    assert [e["kind"] for e in ledger] == ["topup"]  # no fee before the start
    assert orjson.loads(cli(capsys, url, "notifications", "--format", "json")) == []
    monkeypatch.setenv("BILLING_NOW", "2027-03-01T00:00:00Z")  # the start: an ordinary bot
    started = orjson.loads(cli(capsys, url, "balance", "--format", "json"))[0]
    assert started["status"] != "scheduled" and started["period_start"] == "2027-03-01T00:00:00Z"


def test_the_api_says_scheduled_with_starts_at_and_a_plan_replaces_the_first(
    tmp_path: Path,
) -> None:
    app, keys, sessions = make_app(f"sqlite:///{tmp_path / 'b.db'}")
    subscribe(sessions, "bot-9", owner="alice", start="2027-03-01", tz="Europe/Berlin")
    answers = asyncio.run(scheduled_calls(app, keys["alice"]))
    (status, body), (funded, order), (previewed, preview), (_, listed) = answers
    assert status == 200, body
    assert (body["status"], body["notices"]) == ("scheduled", ["scheduled"])
    assert (body["starts_at"], body["starts_on"]) == ("2027-03-01T00:00:00+01:00", "2027-03-01")
    assert (funded, order["subscription"]["status"]) == (200, "scheduled"), order
    assert (previewed, preview["kind"], preview["proration"]) == (200, "replace", None), preview
    assert preview["effective"] == "2027-03-01T00:00:00+01:00"
    assert [s["status"] for s in listed if s["app_id"] == "bot-9"] == ["scheduled"]


async def scheduled_calls(app: web.Application, key: str) -> list[tuple[int, Any]]:
    """bot-9's view, a top-up, a plan preview and the list, as its owner (one event loop)."""
    funds = {"amount": "5.00", "idempotency_key": "first"}
    return [
        await call(app, "GET", "/api/subscriptions/bot-9", key),
        await call(app, "POST", "/api/subscriptions/bot-9/funds", key, funds),
        await call(app, "GET", "/api/subscriptions/bot-9/plan-preview?plan=pro", key),
        await call(app, "GET", "/api/subscriptions", key),
    ]
