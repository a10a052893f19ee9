"""A worker's web app over a real money store, for the edge's tests: the usage API (its
ClickHouse store is never reached by these calls), the billing API and the console."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from aiohttp import web
from prometheus_client import CollectorRegistry

from billing import db
from billing import operations as ops
from billing.access import OPERATOR
from tests.billing.helpers import NOW, subscribe
from tests.billing.helpers import seed as seed_store
from web.billing_api import BillingApi
from web.server import Api, create_app

TOKEN = "edge-token-for-tests"  # noqa: S105 - a test credential


@dataclass
class EdgeApp:
    app: web.Application
    keys: dict[str, str]
    sessions: ops.Sessions


def edge_app(
    url: str, *, token: str | None = None, secure_cookies: bool = False, seed: bool = True
) -> EdgeApp:
    """alice owns bot-1 (a paid top-up: order 1), carol owns bot-2, bob is a member (``seed``:
    else the store is served as it is)."""
    sessions = db.open_store(url)
    keys = _seed(sessions) if seed else {}
    billing = BillingApi(sessions, token, clock=lambda: NOW, secure_cookies=secure_cookies)
    usage = Api(cast(Any, None), token, billing)
    app = create_app(CollectorRegistry(), lambda: {"ok": True}, usage, billing)
    return EdgeApp(app, keys, sessions)


def _seed(sessions: ops.Sessions) -> dict[str, str]:
    seeded = seed_store(sessions)
    subscribe(sessions, "bot-1", plan="starter", owner="alice")
    subscribe(sessions, "bot-2", plan="starter", owner="carol")
    ops.add_funds(sessions, OPERATOR, "bot-1", amount="20.00", key=None, now_ms=NOW)
    return seeded.keys
