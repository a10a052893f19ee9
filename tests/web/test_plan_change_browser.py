"""Issue #23 (5) in headless Chromium: the Plan page's "Change plan" dialog offers a bot's
owner only the plans the server allows them (no enterprise plan, no second trial, no other
currency, only the plan's own list of moves), and an admin the prepaid <-> enterprise moves
too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from billing import operations as ops
from billing import plan_operations as plan_ops
from billing.access import OPERATOR
from billing.catalog import Revision
from tests.billing.helpers import NOW, starter, subscribe
from tests.integration.browser import chrome
from tests.integration.console_pages import choose, click, close_dialog, fill, settled
from tests.integration.workers import wait_for
from tests.web.accounts_app import TwoAccounts, two_accounts
from tests.web.served import served


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    yield from chrome(tmp_path)


def offered(browser: Any, app: str) -> list[str]:
    """The plan codes the change dialog of ``app`` offers ([] when it offers none)."""
    choose(browser, f"Manage {app}", "Change plan")

    def loaded() -> bool:
        return bool(
            browser.execute_script(
                "const d = document.getElementById('dialog');"
                "return !!(d.querySelector('#plan-choice') || d.querySelector('p'))"
            )
        )

    wait_for(loaded, 15, lambda: str(browser.execute_script("return dialog.innerText")))
    codes = browser.execute_script(
        "const s = document.getElementById('plan-choice');"
        "return s ? [...s.options].map(o => o.value) : []"
    )
    close_dialog(browser)
    return list(codes)


def sign_in(browser: Any, site: str, key: str) -> None:
    browser.delete_all_cookies()
    browser.get(f"{site}/plans")
    browser.find_element("id", "token").send_keys(key)
    browser.find_element("id", "token").submit()
    wait_for(
        lambda: bool(browser.find_elements("css selector", "#bots tbody tr")),
        15,
        lambda: browser.page_source[:800],
    )
    settled(browser)


def world(tmp_path: Path) -> TwoAccounts:
    """acme's bot-a (termpro) plus bot-c on starter (owned by a-owner, a fee paid, so past
    any trial), and plans of every kind: a trial, an enterprise plan, one in EUR."""
    acme = two_accounts(f"sqlite:///{tmp_path / 'b.db'}")
    for spec in (
        starter("trial", fee="0", term_days=30),
        starter("corp", kind="enterprise", fee="1000.00"),
        starter("euro", currency="EUR", fee="10.00"),
    ):
        ops.add_plan(acme.sessions, OPERATOR, spec, NOW)
    subscribe(acme.sessions, "bot-c", plan="starter", owner="a-owner", account="acme")
    return acme


def test_owners_are_offered_only_the_allowed_plans(browser: Any, tmp_path: Path) -> None:
    acme = world(tmp_path)
    with served(acme.app) as site:
        sign_in(browser, site, acme.keys["a-owner"])
        assert offered(browser, "bot-c") == ["pro", "termpro"]
        sign_in(browser, site, acme.keys["a-admin"])
        assert offered(browser, "bot-c") == ["corp", "pro", "termpro", "trial"]
        # prepaid -> enterprise costs more, yet waits for the next period, unprorated
        choose(browser, "Manage bot-c", "Change plan")
        fill(browser, "plan-choice", "corp")
        click(browser, "review")
        wait_for(lambda: bool(browser.find_elements("id", "preview")), 10, lambda: "no preview")
        text = browser.find_element("id", "preview").text
        assert text.startswith("Move from Starter to Corp on ") and "never prorated" in text
        close_dialog(browser)
        # a new version of starter lists one move; bot-c stays on the version it has
        only_termpro = Revision(changes_to="termpro")
        plan_ops.revise_plan(acme.sessions, OPERATOR, "starter", only_termpro, NOW)
        subscribe(acme.sessions, "bot-d", plan="starter", owner="a-owner", account="acme")
        sign_in(browser, site, acme.keys["a-owner"])
        assert offered(browser, "bot-c") == ["pro", "termpro"]
        assert offered(browser, "bot-d") == ["termpro"]
