"""Cross-site writes in a real headless Chromium: a signed-in user opens a page of another
origin (same host, another port: the same *site*, so the SameSite=Strict cookie is sent)
whose form posts to the console. The Origin check refuses it and nothing is recorded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.billing.helpers import snapshot
from tests.integration.browser import chrome
from tests.integration.workers import wait_for
from tests.web.edge_app import EdgeApp, edge_app
from tests.web.served import served

EVIL_TEXT_FORM = """<!doctype html><html><body>
<form method="post" enctype="text/plain" action="{target}/api/subscriptions/bot-1/funds">
<input type="hidden" name='{{"amount":"10.00","x":"' value='"}}'></form>
<script>document.forms[0].submit()</script></body></html>"""
EVIL_SIGN_IN = """<!doctype html><html><body>
<form method="post" action="{target}/plans"><input type="hidden" name="token" value="{key}">
</form><script>document.forms[0].submit()</script></body></html>"""


def evil_site(pages: dict[str, str]) -> web.Application:
    app = web.Application()
    for path, html in pages.items():
        app.router.add_get(
            path, lambda _r, body=html: web.Response(text=body, content_type="text/html")
        )
    return app


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    yield from chrome(tmp_path)


@pytest.fixture
def edge(tmp_path: Path) -> EdgeApp:
    return edge_app(f"sqlite:///{tmp_path / 'b.db'}")


def body_text(browser: Any) -> str:
    return str(browser.find_element("tag name", "body").text)


def test_a_cross_site_form_cannot_spend_or_sign_in(browser: Any, edge: EdgeApp) -> None:
    with served(edge.app) as site:
        browser.get(f"{site}/plans")
        browser.find_element("id", "token").send_keys(edge.keys["alice"])
        browser.find_element("id", "token").submit()
        wait_for(lambda: "/plans" in browser.current_url and not _login(browser), 15, body_text)
        pages = {
            "/spend": EVIL_TEXT_FORM.format(target=site),
            "/sign-in": EVIL_SIGN_IN.format(target=site, key=edge.keys["root"]),
        }
        with served(evil_site(pages)) as evil:
            before = snapshot(edge.sessions)
            browser.get(f"{evil}/spend")
            wait_for(lambda: "cross-site" in body_text(browser), 15, body_text)
            # 403 "cross-site", not 401: the browser did send alice's session cookie
            assert snapshot(edge.sessions) == before
            browser.get(f"{evil}/sign-in")
            wait_for(lambda: "cross-site" in body_text(browser), 15, body_text)
            assert snapshot(edge.sessions) == before  # no session opened, no top-up


def _login(browser: Any) -> bool:
    return bool(browser.execute_script("return !!document.getElementById('token')"))
