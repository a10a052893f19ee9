"""Billing quantities from the real ClickHouse engine (chdb), in the subscription's zone:
18:29:59.999 and 18:30:00 UTC on the last day of a month fall into different IST months,
and the ledger charges each month for its own sessions and agents."""

from __future__ import annotations

from pathlib import Path

import pytest

from billing import db
from billing import operations as ops
from billing.access import OPERATOR
from billing.posting import ReportUsage, post_once
from schemas.agent_activity import AgentActivity
from schemas.billing_session import BillingSession
from sinks.base import BatchingSink
from sinks.clickhouse.store import ClickHouseStore
from tests.billing.helpers import ms, seed, starter

pytestmark = pytest.mark.integration
EDGE = ms("2026-11-30T18:30:00+00:00")  # 2026-12-01 00:00 IST


def session(n: int, at_ms: int, kind: str = "usage") -> BillingSession:
    return BillingSession(f"bot/c{n}/0@0/{kind}/0", kind, "bot", f"c{n}", 0, 0, "voice", at_ms)


def test_ist_months_split_at_1830_utc_in_quantities_and_charges(
    store: ClickHouseStore, tmp_path: Path
) -> None:
    sink = BatchingSink(store)
    for n in range(3):
        sink.add(session(n, EDGE - 1 - n * 60_000))  # November (IST)
    sink.add(session(10, EDGE))  # December (IST)
    sink.add(session(11, EDGE + 1, "voice"))
    sink.add(session(12, EDGE - 1, "alert"))
    sink.add(AgentActivity("bot", "agent-1", EDGE - 15 * 60_000))
    sink.add(AgentActivity("bot", "agent-2", EDGE))
    sink.add(AgentActivity("bot", "agent-3", EDGE))
    sink.flush()
    source = ReportUsage(store)
    start = ms("2026-11-01T00:00:00+05:30")
    quantities = source.period_quantities(
        "bot", start, ms("2027-01-01T00:00:00+05:30"), "Asia/Kolkata"
    )
    assert quantities == {
        start: {"billing_sessions": 4, "voice_sessions": 0, "agents": 1},
        EDGE: {"billing_sessions": 1, "voice_sessions": 1, "agents": 2},
    }
    in_utc = source.period_quantities(
        "bot", ms("2026-11-01T00:00:00+00:00"), ms("2027-01-01T00:00:00+00:00"), "UTC"
    )
    assert list(in_utc.values()) == [{"billing_sessions": 5, "voice_sessions": 1, "agents": 3}]

    sessions = db.open_store(f"sqlite:///{tmp_path / 'b.db'}")
    seed(sessions)
    free = starter(
        "free",
        fee="0",
        included={},
        prices={"billing_sessions": "1", "voice_sessions": "2", "agents": "10"},
    )
    ops.add_plan(sessions, OPERATOR, free, EDGE)
    ops.subscribe(
        sessions,
        OPERATOR,
        app_id="bot",
        plan="free",
        owner="alice",
        start="2026-11-01",
        tz="Asia/Kolkata",
        low_balance=None,
        now_ms=EDGE + 3_600_000,
    )
    post_once(sessions, source, EDGE + 3_600_000)
    by_period: dict[str, dict[str, str]] = {}
    for entry in ops.ledger(sessions, OPERATOR, "bot"):
        by_period.setdefault(entry["period_start"], {})[entry["meter"]] = entry["amount"]
    assert by_period == {
        "2026-11-01T00:00:00+05:30": {"billing_sessions": "-4.00", "agents": "-10.00"},
        "2026-12-01T00:00:00+05:30": {
            "billing_sessions": "-1.00",
            "voice_sessions": "-2.00",
            "agents": "-20.00",
        },
    }


def test_owners_see_only_their_bots_usage(store: ClickHouseStore, tmp_path: Path) -> None:
    import asyncio

    from aiohttp.test_utils import TestClient, TestServer
    from prometheus_client import CollectorRegistry

    from web.billing_api import BillingApi
    from web.server import Api, create_app

    sink = BatchingSink(store)
    for n, app in enumerate(["bot-1", "bot-1", "bot-2"]):
        sink.add(
            BillingSession(f"{app}/c{n}/0@0/usage/0", "usage", app, f"c{n}", 0, 0, "web", EDGE)
        )
    sink.flush()
    sessions = db.open_store(f"sqlite:///{tmp_path / 'b.db'}")
    keys = seed(sessions).keys
    for app, owner in (("bot-1", "alice"), ("bot-2", "carol")):
        ops.subscribe(
            sessions,
            OPERATOR,
            app_id=app,
            plan="starter",
            owner=owner,
            start="2026-11-01",
            tz="UTC",
            low_balance=None,
            now_ms=EDGE,
        )
    billing = BillingApi(sessions, None)
    app = create_app(CollectorRegistry(), dict, Api(store, None, billing), billing)
    query = "/api/usage?from=2026-11-01&to=2026-12-02&by=month"

    async def get(path: str, key: str) -> tuple[int, object]:
        async with TestClient(TestServer(app)) as client:
            response = await client.get(path, headers={"Authorization": f"Bearer {key}"})
            return response.status, await response.json()

    async def calls() -> list[tuple[int, object]]:
        return [
            await get(f"{query}&all_apps=1", keys["alice"]),
            await get(f"{query}&all_apps=1", keys["root"]),
            await get(f"{query}&app=bot-2", keys["alice"]),
            await get("/api/apps", keys["carol"]),
            await get(query, keys["bob"]),
        ]

    alice, admin, other, apps, member = asyncio.run(calls())
    assert alice[0] == admin[0] == 200
    assert [row["usage_sessions"] for row in alice[1]] == [2]  # type: ignore[union-attr]
    assert [row["usage_sessions"] for row in admin[1]] == [3]  # type: ignore[union-attr]
    assert other[0] == 404 and member[0] == 403  # another owner's bot: like an unknown one
    assert apps == (200, ["bot-2"])
