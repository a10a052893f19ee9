"""The worker's web server (aiohttp): operations endpoints, the usage API and its page.

The usage API always needs a credential: ``Authorization: Bearer`` with a user's API key
or ``BILLING_API_TOKEN``, or the console's session cookie; ``/metrics`` and
``/api/health`` stay open for scrapers and probes (they carry counts, not usage data).
Every response passes ``web.edge`` (security headers, cross-site write checks).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest

from billing.access import unknown_app
from billing.operations import owned_apps
from pipeline import report
from pipeline.report import ReportError
from sinks.clickhouse.store import ClickHouseStore
from web import auth, edge
from web.billing_api import BillingApi, authenticate
from web.billing_routes import add_billing_routes
from web.console import add_console
from web.responses import NO_STORE, json_response

METRICS_CONTENT_TYPE = "text/plain; version=0.0.4"
ASSETS = {
    "usage.js": "application/javascript",
    "chart.js": "application/javascript",
    "periods.js": "application/javascript",
    "usage.css": "text/css",
    "console.js": "application/javascript",
    "menus.js": "application/javascript",
    "plans.js": "application/javascript",
    "invoices.js": "application/javascript",
}


@dataclass(frozen=True, slots=True)
class Api:
    """What the usage API reads."""

    store: ClickHouseStore
    token: str | None
    users: BillingApi | None = None  # API keys of billing users: members get 403 here too


def asset(name: str) -> bytes:
    """A file of the Usage page (shipped in ``web/static``)."""
    return resources.files("web").joinpath("static", name).read_bytes()


def create_app(
    registry: CollectorRegistry,
    health: Callable[[], dict[str, object]],
    api: Api | None,
    billing: BillingApi | None = None,
    *,
    trust_proxy: bool = False,
) -> web.Application:
    """The aiohttp application: ops endpoints always, the usage API when ``api`` is given,
    the billing API when ``billing`` is. ``trust_proxy``: a reverse proxy sets
    ``X-Forwarded-Host`` (``BILLING_TRUST_PROXY``)."""
    app = web.Application(middlewares=[edge.guard])
    app[edge.TRUST_PROXY] = trust_proxy
    app.on_response_prepare.append(edge.add_security_headers)

    async def metrics(_request: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(registry), headers={"Content-Type": METRICS_CONTENT_TYPE}
        )

    async def health_page(_request: web.Request) -> web.Response:
        return json_response(health())

    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api/health", health_page)
    if api is not None:
        _add_usage(app, api)
        add_console(app, api.token, billing)
    if billing is not None:
        add_billing_routes(app, billing)
    return app


def _add_usage(app: web.Application, api: Api) -> None:
    async def usage(request: web.Request) -> web.Response:
        refused, only = await _scope(request, api)
        if refused is not None:
            return refused
        app = request.query.get("app")
        if only is not None and app is not None and app not in only:
            return json_response({"error": unknown_app(app)}, status=404)
        try:
            resolved, rows = await asyncio.to_thread(
                usage_from_query, api, dict(request.query), only
            )
        except ReportError as exc:
            return json_response({"error": str(exc)}, status=400)
        return json_response(rows, headers=range_headers(resolved))

    async def apps(request: web.Request) -> web.Response:
        refused, only = await _scope(request, api)
        if refused is not None:
            return refused
        # an owner's list is their bots
        listed = sorted(only) if only is not None else await asyncio.to_thread(apps_list, api)
        return json_response(listed)

    app.router.add_get("/api/usage", usage)
    app.router.add_get("/api/apps", apps)
    for name, content_type in ASSETS.items():
        app.router.add_get(f"/{name}", _asset_handler(name, content_type))


def _asset_handler(name: str, content_type: str) -> Callable[[web.Request], Any]:
    body = asset(name)

    async def serve(_request: web.Request) -> web.Response:
        return web.Response(body=body, content_type=content_type, headers=NO_STORE)

    return serve


async def _scope(request: web.Request, api: Api) -> tuple[web.Response | None, list[str] | None]:
    """Who may see what, from one look at the credentials: a refusal (401 without them,
    whether or not a token is configured; 403 for a member), else the apps the caller is
    limited to: an admin's account's, an owner's bots (None: every app, for an operator)."""
    actor = None if api.users is None else await authenticate(request, api.users)
    if actor is not None and api.users is not None:
        if actor.role == "member":
            refusal = {"error": f"{actor.name} (member) has no access to billing usage"}
            return json_response(refusal, status=403), None
        # an operator: every app (None); else the apps of the actor's account (an owner's bots)
        return None, await asyncio.to_thread(owned_apps, api.users.sessions, actor)
    if api.users is not None or not auth.allowed(request.headers, api.token):
        return json_response(
            {"error": "unauthorized: send Authorization: Bearer <BILLING_API_TOKEN>"},
            status=401,
            headers={"WWW-Authenticate": "Bearer"},
        ), None
    return None, None


def range_headers(request: report.ReportRequest) -> dict[str, str]:
    """The resolved range and granularity, so a client can lay out empty periods."""
    return {
        "X-Usage-From": report.iso_ms(request.start_ms),
        "X-Usage-To": report.iso_ms(request.end_ms),
        "X-Usage-By": request.by,
    }


def usage_from_query(
    api: Api, query: Mapping[str, str], apps: list[str] | None = None
) -> tuple[report.ReportRequest, list[dict[str, Any]]]:
    """The SPEC section 6 report for the query parameters (only ``apps``, when given);
    raises ``ReportError``."""
    request = report.from_query(query)
    return request, report.fetch(api.store, request, apps)


def apps_list(api: Api) -> list[str]:
    """App ids with activity."""
    return api.store.apps()


async def serve(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Start serving ``app``; returns the runner to clean up."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
