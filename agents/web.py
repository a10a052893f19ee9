"""The worker's web server: ``/metrics`` and ``/api/health`` on every worker; the usage
API (``/api/usage``, ``/api/apps``) and the Usage page (``/usage``) on the ``web`` role.

When ``BILLING_API_TOKEN`` is set, the API needs ``Authorization: Bearer <token>``
or the cookie the page's login form sets; ``/metrics`` and ``/api/health`` stay
open for scrapers and probes (they carry counts, not usage data).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import faust
from prometheus_client import CollectorRegistry, generate_latest

from agents import auth
from pipeline import report
from pipeline.report import ReportError
from sinks.clickhouse.store import ClickHouseStore

METRICS_CONTENT_TYPE = "text/plain; version=0.0.4"  # aiohttp refuses a charset here
ASSETS = {
    "usage.js": "application/javascript",
    "chart.js": "application/javascript",
    "usage.css": "text/css",
}


@dataclass(frozen=True, slots=True)
class Api:
    """What the usage API reads."""

    store: ClickHouseStore
    lock: threading.Lock
    token: str | None


def asset(name: str) -> bytes:
    """A file of the Usage page (shipped in ``agents/static``)."""
    return resources.files("agents").joinpath("static", name).read_bytes()


def wire_ops(app: faust.App, registry: CollectorRegistry, health: Callable[[], Any]) -> None:
    """``/metrics`` (Prometheus text format) and ``/api/health``."""

    @app.page("/metrics")
    async def metrics(view: Any, _request: Any) -> Any:
        return view.bytes(generate_latest(registry), content_type=METRICS_CONTENT_TYPE)

    @app.page("/api/health")
    async def health_page(view: Any, _request: Any) -> Any:
        return view.json(health())


def wire_api(app: faust.App, api: Api) -> None:
    """The usage API and the Usage page."""

    @app.page("/api/usage")
    async def usage(view: Any, request: Any) -> Any:
        refused = _refused(view, request, api)
        if refused is not None:
            return refused
        try:
            resolved, rows = await asyncio.to_thread(usage_from_query, api, dict(request.query))
        except ReportError as exc:
            return view.json({"error": str(exc)}, status=400)
        return view.json(rows, headers=range_headers(resolved))

    @app.page("/api/apps")
    async def apps(view: Any, request: Any) -> Any:
        refused = _refused(view, request, api)
        if refused is not None:
            return refused
        return view.json(await asyncio.to_thread(apps_list, api))

    for name, content_type in ASSETS.items():
        _wire_asset(app, name, content_type)
    app.page("/usage")(_page_view(api))


def _wire_asset(app: faust.App, name: str, content_type: str) -> None:
    body = asset(name)

    async def serve(view: Any, _request: Any) -> Any:
        return view.bytes(body, content_type=content_type, headers=auth.NO_STORE)

    serve.__name__ = f"asset_{name.replace('.', '_')}"
    app.page(f"/{name}")(serve)


def _page_view(api: Api) -> type[faust.web.View]:
    page, login = asset("usage.html").decode(), asset("login.html").decode()

    class UsagePage(faust.web.View):
        """GET: the page (or the login form); POST: log in with the token."""

        async def get(self, request: Any) -> Any:
            if auth.allowed(request.headers, request.cookies, api.token):
                return self.html(page, headers=auth.NO_STORE)
            return self.html(auth.login_form(login, failed=False), status=401)

        async def post(self, request: Any) -> Any:
            form = await request.post()
            given = str(form.get("token", ""))
            if api.token is None or not auth.matches(given, api.token):
                return self.html(auth.login_form(login, failed=True), status=401)
            headers = {"Location": "/usage", "Set-Cookie": auth.set_cookie(api.token)}
            return self.html("", status=303, headers=headers)

    return UsagePage


def _refused(view: Any, request: Any, api: Api) -> Any:
    if not auth.allowed(request.headers, request.cookies, api.token):
        return view.json(
            {"error": "unauthorized: send Authorization: Bearer <BILLING_API_TOKEN>"},
            status=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return None


def range_headers(request: report.ReportRequest) -> dict[str, str]:
    """The resolved range and granularity, so a client can lay out empty periods."""
    return {
        "X-Usage-From": report.iso_ms(request.start_ms),
        "X-Usage-To": report.iso_ms(request.end_ms),
        "X-Usage-By": request.by,
    }


def usage_from_query(
    api: Api, query: Mapping[str, str]
) -> tuple[report.ReportRequest, list[dict[str, Any]]]:
    """The SPEC section 6 report for the query parameters; raises ``ReportError``."""
    request = report.from_query(query)
    with api.lock:
        return request, report.fetch(api.store, request)


def apps_list(api: Api) -> list[str]:
    """App ids with activity."""
    with api.lock:
        return api.store.apps()
