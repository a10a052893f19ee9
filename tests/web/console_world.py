"""A console for the page tests of issue #23: the web app in-process over a migrated store
and a usage store whose daily numbers the test sets (``Scaled``).

Bots (all owned by alice, in the default account): ``bot-01``..``bot-09`` on Starter since
September (with finalized invoices for September and October), ``trial-1`` on a 30-day
term with an extension request waiting, ``future-1`` starting on March 1, 2027, and
``yen-1`` on a JPY plan (no minor unit)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from aiohttp import web
from prometheus_client import CollectorRegistry

from billing import operations as ops
from billing.access import OPERATOR
from billing.finalize import finalize_due
from billing.posting import PeriodQuantities, post_once
from tests.billing.helpers import NOW, ms, seed, starter, subscribe
from tests.billing.invoices_helpers import SETTINGS
from web.billing_api import BillingApi
from web.server import Api, create_app

HOUR_MS = 3_600_000
AGENTS = (5, 40, 12, 30, 8, 25, 18)  # a week of agents: the line the chart must show


@dataclass
class Scaled:
    """What the usage API reads of ClickHouse: every hour or day of the asked range has
    ``sessions`` billing sessions, a fifth of them voice, and the agents of ``AGENTS``."""

    sessions: int = 10
    asked: list[dict[str, Any]] = field(default_factory=list)

    def period_quantities(
        self, app_id: str, start_ms: int, end_ms: int, tz: str
    ) -> PeriodQuantities:
        return {}  # the money side: no usage to charge

    def apps(self) -> list[str]:
        return ["bot-01", "bot-02"]

    def usage_rows(
        self, *, by: str, start_ms: int, end_ms: int, apps: Sequence[str] | None = None, **kw: Any
    ) -> list[tuple[Any, ...]]:
        self.asked.append({"by": by, "start_ms": start_ms, "end_ms": end_ms, **kw})
        step = HOUR_MS if by == "hour" else 24 * HOUR_MS
        rows = []
        for n, at in enumerate(range(start_ms, end_ms, step)):
            moment = datetime.fromtimestamp(at / 1000, UTC)
            agents = AGENTS[n % len(AGENTS)]
            rows.append((moment, "*", self.sessions, self.sessions // 5, 0, agents))
        return rows


@dataclass
class World:
    app: web.Application
    keys: dict[str, str]
    sessions: ops.Sessions
    usage: Scaled


def console_world(url: str) -> World:
    sessions = _open(url)
    september = ms("2026-09-01T00:00:00+00:00")
    seeded = seed(sessions, september)
    ops.add_plan(
        sessions, OPERATOR, starter("yen", name="Yen Basic", currency="JPY", fee="500"), NOW
    )
    for n in range(1, 10):
        subscribe(sessions, f"bot-{n:02d}", start="2026-09-01", now_ms=september)
    post_once(sessions, Scaled(0), NOW)  # opens (and charges) October and November
    finalize_due(sessions, NOW, SETTINGS)  # September's and October's invoices
    subscribe(sessions, "trial-1", plan="trial", start="2026-11-01")
    alice = seeded.actors["alice"]
    ops.request_extension(sessions, alice, "trial-1", days=5, reason="pilot", now_ms=NOW)
    subscribe(sessions, "future-1", start="2027-03-01")
    subscribe(sessions, "yen-1", plan="yen")
    billing = BillingApi(sessions, None, clock=lambda: NOW)
    usage = Scaled()
    api = Api(cast(Any, usage), None, billing)
    app = create_app(CollectorRegistry(), lambda: {"ok": True}, api, billing)
    return World(app, seeded.keys, sessions, usage)


def _open(url: str) -> ops.Sessions:
    from billing import db

    return db.open_store(url)
