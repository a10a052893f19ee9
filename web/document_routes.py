"""Orders & Invoices endpoints and what the console pages need besides the billing API:
invoices and their PDFs, orders and receipts, a plan change's preview, the users an admin
may make owners, extension requests, and who is signed in."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from billing import account_operations as account_ops
from billing import documents
from billing import operations as ops
from billing import plan_operations as plan_ops
from billing.access import Actor
from billing.errors import InvalidError
from billing.finalize import InvoiceSettings
from web.billing_api import (
    SESSION_COOKIE,
    BillingApi,
    Handler,
    app_of,
    body_of,
    endpoint,
    row_id,
    text_field,
)


def pdf_response(body: bytes, filename: str) -> web.Response:
    """A PDF download."""
    return web.Response(
        body=body,
        content_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def add_document_routes(app: web.Application, api: BillingApi, settings: InvoiceSettings) -> None:
    """Register the Orders & Invoices and console endpoints."""
    s, now = api.sessions, api.clock

    async def invoices(r: web.Request, actor: Actor) -> Any:
        return await asyncio.to_thread(documents.list_invoices, s, actor, r.query.get("app"))

    async def invoice(r: web.Request, actor: Actor) -> Any:
        return await asyncio.to_thread(documents.get_invoice, s, actor, r.match_info["number"])

    async def invoice_pdf(r: web.Request, actor: Actor) -> Any:
        number = r.match_info["number"]
        body = await asyncio.to_thread(documents.invoice_pdf, s, actor, number)
        return pdf_response(body, f"{number}.pdf")

    async def orders(r: web.Request, actor: Actor) -> Any:
        return await asyncio.to_thread(documents.list_orders, s, actor, r.query.get("app"))

    async def receipt(r: web.Request, actor: Actor) -> Any:
        order_id = row_id(r.match_info["id"], "order")
        body = await asyncio.to_thread(documents.receipt_pdf, s, actor, order_id, settings)
        return pdf_response(body, f"receipt-{order_id:06d}.pdf")

    async def preview(r: web.Request, actor: Actor) -> Any:
        code = r.query.get("plan", "")
        return await asyncio.to_thread(ops.preview_change, s, actor, app_of(r), code, now())

    async def plan_options(r: web.Request, actor: Actor) -> Any:
        return await asyncio.to_thread(plan_ops.plan_options, s, actor, app_of(r))

    async def users(_r: web.Request, actor: Actor) -> Any:
        return await asyncio.to_thread(ops.list_users, s, actor)

    async def extensions(r: web.Request, actor: Actor) -> Any:
        app_id, status = r.query.get("app"), r.query.get("status")
        return await asyncio.to_thread(ops.list_extensions, s, actor, app_id, status)

    async def me(_r: web.Request, actor: Actor) -> Any:
        return await asyncio.to_thread(account_ops.whoami, s, actor)

    async def switch(r: web.Request, actor: Actor) -> Any:
        account = text_field(await body_of(r), "account") or ""
        cookie = r.cookies.get(SESSION_COOKIE, "")
        if not cookie or r.headers.get("Authorization"):
            raise InvalidError(
                "switching accounts is for console sessions: API calls send X-Billing-Account"
            )
        await asyncio.to_thread(account_ops.switch_account, s, cookie, actor, account)
        return {"account": account}

    async def profile(_r: web.Request, actor: Actor) -> Any:
        return await asyncio.to_thread(account_ops.billing_profile, s, actor)

    async def set_profile(r: web.Request, actor: Actor) -> Any:
        fields = profile_fields(await body_of(r))
        return await asyncio.to_thread(account_ops.set_billing_profile, s, actor, fields)

    routes: list[tuple[str, str, Handler]] = [
        ("GET", "/api/account/profile", profile),
        ("PUT", "/api/account/profile", set_profile),
        ("GET", "/api/invoices", invoices),
        ("GET", r"/api/invoices/{number:INV-\d{4}-\d+}.pdf", invoice_pdf),
        ("GET", "/api/invoices/{number}", invoice),
        ("GET", "/api/orders", orders),
        ("GET", "/api/orders/{id}/receipt.pdf", receipt),
        ("GET", "/api/subscriptions/{app}/plan-preview", preview),
        ("GET", "/api/subscriptions/{app}/plan-options", plan_options),
        ("GET", "/api/users", users),
        ("GET", "/api/extensions", extensions),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, path, endpoint(api, handler))
    app.router.add_route("GET", "/api/me", endpoint(api, me, members=True))
    app.router.add_route("POST", "/api/me/account", endpoint(api, switch, members=True))


def profile_fields(body: dict[str, Any]) -> dict[str, str | None]:
    """A billing profile's fields from a JSON body (``address``: a list of lines or one
    string); fields left out stay as they are."""
    address = body.get("address")
    if isinstance(address, list):
        if not all(isinstance(line, str) for line in address):
            raise InvalidError("'address' must be a list of lines (strings)")
        body = {**body, "address": "\n".join(address)}
    names = ("legal_name", "address", "country", "tax_id", "billing_email")
    unknown = sorted(set(body) - set(names))
    if unknown:
        raise InvalidError(f"unknown profile field {unknown[0][:64]!r}: one of {', '.join(names)}")
    return {name: text_field(body, name, required=False) for name in names}
