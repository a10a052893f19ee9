"""The billing endpoints, each one ``billing.operations`` call (see ``web.billing_api``)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from billing import operations as ops
from billing.access import Actor
from web.billing_api import (
    BillingApi,
    Handler,
    app_of,
    body_of,
    endpoint,
    extension_id_of,
    int_field,
    text_field,
)
from web.document_routes import add_document_routes


def add_billing_routes(app: web.Application, api: BillingApi) -> None:
    """Register every billing endpoint on ``app``."""
    s, now = api.sessions, api.clock

    async def plans(_r: web.Request, actor: Actor) -> Any:
        return await asyncio.to_thread(ops.list_plans, s, actor)

    async def subscriptions(r: web.Request, actor: Actor) -> Any:
        return await asyncio.to_thread(ops.subscriptions, s, actor, r.query.get("app"), now())

    async def subscription(r: web.Request, actor: Actor) -> Any:
        found = await asyncio.to_thread(ops.subscriptions, s, actor, app_of(r), now())
        return found[0]

    async def funds(r: web.Request, actor: Actor) -> Any:
        body = await body_of(r)
        amount = text_field(body, "amount") or ""
        key = text_field(body, "idempotency_key", required=False)
        return await asyncio.to_thread(
            lambda: ops.add_funds(s, actor, app_of(r), amount=amount, key=key, now_ms=now())
        )

    async def plan(r: web.Request, actor: Actor) -> Any:
        body = await body_of(r)
        code = text_field(body, "plan") or ""
        return await asyncio.to_thread(ops.change_plan, s, actor, app_of(r), code, now())

    async def cancel(r: web.Request, actor: Actor) -> Any:
        return await asyncio.to_thread(ops.cancel_change, s, actor, app_of(r), now())

    async def extension(r: web.Request, actor: Actor) -> Any:
        body = await body_of(r)
        days, reason = int_field(body, "days"), text_field(body, "reason", required=False) or ""
        return await asyncio.to_thread(
            lambda: ops.request_extension(
                s, actor, app_of(r), days=days, reason=reason, now_ms=now()
            )
        )

    def decide(approve: bool) -> Handler:
        async def handler(r: web.Request, actor: Actor) -> Any:
            ext_id = extension_id_of(r)
            return await asyncio.to_thread(
                lambda: ops.decide_extension(s, actor, ext_id, approve=approve, now_ms=now())
            )

        return handler

    async def owner(r: web.Request, actor: Actor) -> Any:
        to = text_field(await body_of(r), "owner") or ""
        return await asyncio.to_thread(ops.change_owner, s, actor, app_of(r), to, now())

    async def ledger(r: web.Request, actor: Actor) -> Any:
        return await asyncio.to_thread(ops.ledger, s, actor, r.query.get("app"))

    async def notifications(r: web.Request, actor: Actor) -> Any:
        return await asyncio.to_thread(ops.notifications, s, actor, r.query.get("app"))

    routes: list[tuple[str, str, Handler]] = [
        ("GET", "/api/plans", plans),
        ("GET", "/api/subscriptions", subscriptions),
        ("GET", "/api/subscriptions/{app}", subscription),
        ("POST", "/api/subscriptions/{app}/funds", funds),
        ("POST", "/api/subscriptions/{app}/plan", plan),
        ("DELETE", "/api/subscriptions/{app}/plan-change", cancel),
        ("POST", "/api/subscriptions/{app}/extensions", extension),
        ("POST", "/api/extensions/{id}/approve", decide(approve=True)),
        ("POST", "/api/extensions/{id}/reject", decide(approve=False)),
        ("POST", "/api/subscriptions/{app}/owner", owner),
        ("GET", "/api/ledger", ledger),
        ("GET", "/api/notifications", notifications),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, path, endpoint(api, handler))
    add_document_routes(app, api, api.invoices)
