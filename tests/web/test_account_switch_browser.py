"""The console in headless Chromium for a user of two accounts: the Plan page shows the
bots of the account they act in, and the header's Account list switches to the other."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from billing import operations as ops
from billing.access import OPERATOR
from tests.billing.helpers import NOW
from tests.integration.browser import chrome
from tests.integration.workers import wait_for
from tests.web.accounts_app import two_accounts
from tests.web.served import served


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    yield from chrome(tmp_path)


def bots(browser: Any) -> str:
    """The Plan page's text once it has loaded ("" while it loads or reloads)."""
    return str(
        browser.execute_script(
            "const main = document.querySelector('main');"
            "return main && document.body.getAttribute('aria-busy') === 'false'"
            " ? main.innerText : ''"
        )
    )


def test_a_user_of_two_accounts_switches_between_them(browser: Any, tmp_path: Path) -> None:
    world = two_accounts(f"sqlite:///{tmp_path / 'b.db'}")
    ops.add_user(world.sessions, OPERATOR, "a-admin", "admin", NOW, account="beta")
    with served(world.app) as site:
        browser.get(f"{site}/plans")
        browser.find_element("id", "token").send_keys(world.keys["a-admin"])
        browser.find_element("id", "token").submit()
        wait_for(lambda: "bot-a" in bots(browser), 15, lambda: bots(browser))
        assert "bot-b" not in bots(browser)
        assert "(admin, acme)" in browser.find_element("id", "who").text
        from selenium.webdriver.support.ui import Select

        Select(browser.find_element("id", "account-switch")).select_by_value("beta")
        wait_for(lambda: "bot-b" in bots(browser), 15, lambda: bots(browser))
        assert "bot-a" not in bots(browser)
        assert "(admin, beta)" in browser.find_element("id", "who").text
        browser.get(f"{site}/invoices")  # the session stays in beta on every page
        who = browser.find_element
        wait_for(lambda: "(admin, beta)" in who("id", "who").text, 15, lambda: bots(browser))


def test_an_operator_picks_any_account_or_all(browser: Any, tmp_path: Path) -> None:
    world = two_accounts(f"sqlite:///{tmp_path / 'b.db'}")
    from selenium.webdriver.support.ui import Select

    with served(world.app) as site:
        browser.get(f"{site}/plans")
        browser.find_element("id", "token").send_keys(world.keys["op"])
        browser.find_element("id", "token").submit()
        wait_for(lambda: "bot-b" in bots(browser), 15, lambda: bots(browser))
        assert "bot-a" in bots(browser)  # all accounts
        Select(browser.find_element("id", "account-switch")).select_by_value("beta")
        wait_for(
            lambda: "bot-a" not in bots(browser) and "bot-b" in bots(browser),
            15,
            lambda: bots(browser),
        )
        Select(browser.find_element("id", "account-switch")).select_by_value("")
        wait_for(
            lambda: "bot-a" in bots(browser) and "bot-b" in bots(browser), 15, lambda: bots(browser)
        )
