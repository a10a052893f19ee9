"""Two accounts behind one worker's web app, for the access matrix: ``acme`` (bot-a, owned
by a-owner; its admin a-admin, its member a-member) and ``beta`` (bot-b, owned by b-admin);
an operator; a revoked admin of acme; an app (``stray``) seen only in events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from aiohttp import web
from prometheus_client import CollectorRegistry

from billing import accounts, db, keys
from billing import operations as ops
from billing.access import OPERATOR
from billing.invoice_settings import InvoiceSettings
from tests.billing.helpers import NOW, starter, subscribe
from web.billing_api import BillingApi
from web.server import Api, create_app

USERS = {
    "op": ("operator", None),
    "a-admin": ("admin", "acme"),
    "a-owner": ("owner", "acme"),
    "a-member": ("member", "acme"),
    "b-admin": ("admin", "beta"),
    "revoked": ("admin", "acme"),
}


class FakeUsage:
    """What the usage API reads of ClickHouse: one row per app asked for."""

    def apps(self) -> list[str]:
        return ["bot-a", "bot-b", "stray"]

    def usage_rows(self, *, app_id: str | None, apps: Sequence[str] | None, **_: Any) -> list[Any]:
        chosen = [app_id] if app_id else list(apps) if apps is not None else self.apps()
        if apps is not None:
            chosen = [a for a in chosen if a in apps]
        period = datetime(2026, 11, 15, tzinfo=UTC)
        return [(period, app, 1, 0, 0, 0) for app in chosen]


@dataclass
class TwoAccounts:
    app: web.Application
    keys: dict[str, str]
    sessions: ops.Sessions


def two_accounts(url: str) -> TwoAccounts:
    sessions = db.open_store(url)
    with sessions.begin() as session:
        for name in ("acme", "beta"):
            accounts.add_account(session, name, {"legal_name": f"{name.title()} Ltd"}, NOW)
    issued = {
        name: ops.add_user(sessions, OPERATOR, name, role, NOW, account=account)["api_key"]
        for name, (role, account) in USERS.items()
    }
    ops.add_plan(sessions, OPERATOR, starter(), NOW)
    ops.add_plan(sessions, OPERATOR, starter("pro", fee="99.00"), NOW)
    ops.add_plan(sessions, OPERATOR, starter("termpro", fee="99.00", term_days=30), NOW)
    subscribe(sessions, "bot-a", plan="termpro", owner="a-owner", account="acme")
    subscribe(sessions, "bot-b", plan="termpro", owner="b-admin", account="beta")
    ops.add_funds(sessions, OPERATOR, "bot-a", amount="150.00", key=None, now_ms=NOW)
    ops.request_extension(sessions, OPERATOR, "bot-a", days=5, reason="pilot", now_ms=NOW)
    ops.change_plan(sessions, OPERATOR, "bot-a", "starter", NOW)  # a downgrade to cancel
    with sessions.begin() as session:
        keys.revoke(session, "revoked", NOW)
    seller = InvoiceSettings(seller=("Acme Bots Ltd", "1 Market Street"))  # receipts need one
    billing = BillingApi(sessions, None, clock=lambda: NOW, invoices=seller)
    usage = Api(cast(Any, FakeUsage()), None, billing)
    app = create_app(CollectorRegistry(), lambda: {"ok": True}, usage, billing)
    return TwoAccounts(app, issued, sessions)
