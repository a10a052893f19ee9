"""The Billing console's pages (Usage, Plan, Orders & Invoices): sign-in, sign-out, and
who may see which page.

Signing in takes a user's API key or ``BILLING_API_TOKEN``; the browser gets a random
session cookie (HttpOnly, SameSite=Strict, Secure over HTTPS; the store keeps its SHA-256).
Members may sign in but see no billing page at all. Every page, the Usage page included,
needs a sign-in (or a bearer key), whether or not ``BILLING_API_TOKEN`` is set. Signing
in and out are writes: ``web.edge`` refuses them from another site.
"""

from __future__ import annotations

import asyncio
import functools
import html
from collections.abc import Awaitable, Callable
from importlib import resources

from aiohttp import web

from billing.access import Actor
from billing.keys import SESSION_DAYS, actor_for_key, close_web_session, open_web_session
from web import auth, edge
from web.billing_api import SESSION_COOKIE, BillingApi, authenticate
from web.responses import NO_STORE

PAGES = {"/usage": "usage.html", "/plans": "plans.html", "/invoices": "invoices.html"}
NO_ACCESS = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>No access</title>"
    "<link rel='stylesheet' href='/usage.css'></head><body><main class='login'>"
    "<h1>No access to billing</h1><p id='no-access'>{name} is a member of this account: "
    "members have no access to the Billing pages.</p><form method='post' action='/logout'>"
    "<button type='submit'>Sign out</button></form></main></body></html>"
)


@functools.cache
def _static(name: str) -> str:
    return resources.files("web").joinpath("static", name).read_text()


def _login(path: str, *, failed: bool) -> web.Response:
    body = auth.login_form(_static("login.html"), failed=failed).replace("{{action}}", path)
    return web.Response(text=body, status=401, content_type="text/html", headers=NO_STORE)


def add_console(app: web.Application, token: str | None, billing: BillingApi | None) -> None:
    """Serve the pages and the sign-in and sign-out forms."""

    async def who(request: web.Request) -> Actor | None:
        return None if billing is None else await authenticate(request, billing)

    def page(path: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        text = _static(PAGES[path])

        async def serve(request: web.Request) -> web.Response:
            actor = await who(request)
            if actor is not None and actor.role == "member":
                body = NO_ACCESS.format(name=html.escape(actor.name))
                return web.Response(text=body, status=403, content_type="text/html")
            if actor is None:
                return _login(path, failed=False)
            return web.Response(text=text, content_type="text/html", headers=NO_STORE)

        return serve

    async def log_in(request: web.Request) -> web.Response:
        given = str((await request.post()).get("token", "")).strip()
        actor = await asyncio.to_thread(_actor_for, billing, token, given) if given else None
        if actor is None or billing is None:
            return _login(request.path, failed=True)
        opened = await asyncio.to_thread(_open, billing, actor, given)
        secure = edge.is_https(request, billing.secure_cookies)
        value = edge.cookie(SESSION_COOKIE, opened, max_age=SESSION_DAYS * 86_400, secure=secure)
        return web.Response(status=303, headers={"Location": request.path, "Set-Cookie": value})

    async def log_out(request: web.Request) -> web.Response:
        cookie = request.cookies.get(SESSION_COOKIE, "")
        if cookie and billing is not None:
            await asyncio.to_thread(_close, billing, cookie)
        secure = edge.is_https(request, billing is not None and billing.secure_cookies)
        gone = edge.cookie(SESSION_COOKIE, "", max_age=0, secure=secure)
        return web.Response(status=303, headers={"Location": "/plans", "Set-Cookie": gone})

    for path in PAGES:
        app.router.add_get(path, page(path))
        app.router.add_post(path, log_in)
    app.router.add_post("/logout", log_out)


def _actor_for(billing: BillingApi | None, token: str | None, key: str) -> Actor | None:
    if billing is None:
        return None
    with billing.sessions() as session:
        return actor_for_key(session, key, token, billing.clock())


def _open(billing: BillingApi, actor: Actor, credential: str) -> str:
    with billing.sessions.begin() as session:
        return open_web_session(session, actor, credential, billing.clock())


def _close(billing: BillingApi, cookie: str) -> None:
    with billing.sessions.begin() as session:
        close_web_session(session, cookie)
