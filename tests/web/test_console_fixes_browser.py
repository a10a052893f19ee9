"""Issue #23 in headless Chromium: future-dated subscriptions on the Plan page (item 3) and
every page fix of item 6, against the web app in-process (``console_world``). Screenshots
go to ``BILLING_TEST_ARTIFACTS`` (default ``test-artifacts/``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from billing import operations as ops
from billing.access import OPERATOR
from tests.billing.helpers import NOW
from tests.integration.browser import ARTIFACTS, chrome
from tests.integration.console_pages import choose, click, fill, outcome, rows, settled
from tests.integration.workers import wait_for
from tests.web.console_world import World, console_world
from tests.web.served import served


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    world = console_world(f"sqlite:///{tmp_path_factory.mktemp('console') / 'b.db'}")
    with served(world.app) as base:
        yield base, world


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    yield from chrome(tmp_path)


def shot(browser: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / f"console-{name}.png"))


def open_page(browser: Any, site: tuple[str, World], page: str, user: str = "root") -> str:
    """``page`` signed in as ``user``; its status line once loaded."""
    base, world = site
    browser.get(f"{base}/login")
    browser.delete_all_cookies()
    browser.get(f"{base}{page}")
    if browser.find_elements("id", "token"):
        browser.find_element("id", "token").send_keys(world.keys[user])
        browser.find_element("id", "token").submit()
        wait_for(lambda: not browser.find_elements("id", "token"), 15, lambda: browser.title)
    return settled(browser)


def test_a_future_start_is_scheduled_and_says_when(browser: Any, site: tuple[str, World]) -> None:
    open_page(browser, site, "/plans")
    row = rows(browser)["future-1"]
    assert row["status"].startswith("scheduled starts Mar 1, 2027"), row
    api = ops.subscriptions(site[1].sessions, OPERATOR, "future-1", NOW)[0]
    assert (api["status"], api["starts_on"]) == ("scheduled", "2027-03-01")
    browser.find_element("css selector", 'tr[data-app="future-1"] .info-button').click()
    note = browser.find_element("css selector", 'tr[data-app="future-1"] .popover').text
    assert "starts on Mar 1, 2027" in note and "Nothing is charged" in note
    choose(browser, "Manage future-1", "Add funds")
    fill(browser, "amount", "10.00")
    click(browser, "review")
    click(browser, "confirm")
    assert outcome(browser).startswith("OK: Added 10.00 USD")
    browser.execute_script("document.getElementById('dialog').close()")
    wait_for(lambda: rows(browser)["future-1"]["balance"] == "10.00 USD", 10, lambda: "balance")
    assert rows(browser)["future-1"]["status"].startswith("scheduled")  # funds do not start it
    shot(browser, "scheduled")


def test_plans_by_name_and_term_plans_with_an_end(browser: Any, site: tuple[str, World]) -> None:
    open_page(browser, site, "/plans")
    shown = rows(browser)
    assert shown["bot-01"]["plan"] == "Starter (prepaid)"
    assert shown["yen-1"]["plan"] == "Yen Basic (prepaid)"
    ends = browser.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('#bots tbody tr')]"
        ".map(r => [r.dataset.app, r.querySelector('.ends').innerText]))"
    )
    assert ends["trial-1"] == "Dec 1, 2026" and ends["bot-01"] == "\N{EN DASH}"
    header = browser.find_element("css selector", "#bots thead").text
    assert "Ends" in header
    periods = browser.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('#bots tbody tr')]"
        ".map(r => [r.dataset.app, r.querySelector('.period').innerText]))"
    )
    # the days a period covers: November's ends on the 30th, not on Dec 1
    assert periods["bot-01"] == "Nov 1 \N{EN DASH} Nov 30, 2026"
    assert periods["future-1"] == "Mar 1 \N{EN DASH} Mar 31, 2027"  # its first period


def visible_inside(browser: Any, selector: str) -> dict[str, Any]:
    """Where the box is, and whether what the user sees at its corners is the box itself."""
    return dict(
        browser.execute_script(
            "const box = document.querySelector(arguments[0]);"
            "const r = box.getBoundingClientRect();"
            "const at = (x, y) => box.contains(document.elementFromPoint(x, y));"
            "return {top: r.top, bottom: r.bottom, height: r.height, vh: window.innerHeight,"
            " corners: [at(r.left + 3, r.top + 3), at(r.right - 3, r.top + 3),"
            "  at(r.left + 3, r.bottom - 3), at(r.right - 3, r.bottom - 3)]}",
            selector,
        )
    )


@pytest.mark.parametrize("height", [1100, 620])
def test_the_last_rows_menu_and_popover_are_not_clipped(
    browser: Any, site: tuple[str, World], height: int
) -> None:
    browser.set_window_size(1280, height)
    open_page(browser, site, "/plans")
    last = "yen-1"
    browser.execute_script(
        "document.querySelector('tr[data-app=\"yen-1\"]').scrollIntoView({block: 'end'})"
    )
    browser.find_element("css selector", f'button[aria-label="Manage {last}"]').click()
    menu = visible_inside(browser, '[role="menu"]:not([hidden])')
    assert menu["height"] > 100 and all(menu["corners"]), menu
    assert menu["top"] >= 0 and menu["bottom"] <= menu["vh"], menu
    shot(browser, f"last-row-menu-{height}")
    browser.find_element("css selector", f'tr[data-app="{last}"] .info-button').click()
    pop = visible_inside(browser, f'tr[data-app="{last}"] .popover')
    assert pop["height"] > 20 and all(pop["corners"]), pop
    assert pop["top"] >= 0 and pop["bottom"] <= pop["vh"], pop
    shot(browser, f"last-row-popover-{height}")


def test_pending_extension_requests_are_listed_on_the_plan_page(
    browser: Any, site: tuple[str, World]
) -> None:
    for user in ("root", "alice"):
        open_page(browser, site, "/plans", user)
        section = browser.find_element("id", "pending-section")
        assert section.is_displayed(), user
        cells = browser.execute_script(
            "return [...document.querySelectorAll('#pending tbody tr')]"
            ".map(r => [...r.cells].map(c => c.innerText))"
        )
        assert len(cells) == 1, cells
        bot, term, reason, who, when, decision = cells[0]
        assert (bot, term, reason, who) == (
            "trial-1",
            "5 more days (to Dec 6, 2026)",
            "pilot",
            "alice",
        )
        assert when == "Nov 15, 2026"
        assert decision == ("Review" if user == "root" else "Waiting for an admin")
    shot(browser, "pending-extensions")
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element("id", "bot")).select_by_value("bot-01")
    assert not browser.find_element("id", "pending-section").is_displayed()  # not bot-01's


REFUSED = {
    "1e3": "is not an amount",
    "-5": "without a sign",
    "+5": "without a sign",
    "1,000": "is not an amount",
    "1.001": "USD has at most 2 decimal places",
    "0.00": "above zero",
    "": "Enter an amount",
}


def test_the_amount_is_a_plain_decimal_refused_before_any_confirm(
    browser: Any, site: tuple[str, World]
) -> None:
    open_page(browser, site, "/plans")
    choose(browser, "Manage bot-02", "Add funds")
    for text, why in REFUSED.items():
        fill(browser, "amount", text)
        click(browser, "review")
        assert not browser.find_elements("id", "confirm"), text
        assert why in browser.find_element("id", "amount-error").text, text
        assert browser.find_element("id", "amount").is_enabled()
    shot(browser, "amount-refused")
    before = ops.subscriptions(site[1].sessions, OPERATOR, "bot-02", NOW)[0]["balance"]
    fill(browser, "amount", "99999999999999.99")  # plain, but more than the server takes
    click(browser, "review")
    assert "Add 99,999,999,999,999.99 USD" in browser.find_element("id", "preview").text
    click(browser, "confirm")
    wait_for(
        lambda: any(e.text for e in browser.find_elements("id", "amount-error")),
        10,
        lambda: str(browser.find_element("id", "dialog").text),
    )
    refused = browser.find_element("id", "amount-error").text
    assert refused.startswith("Could not add funds. ") and refused.endswith("."), refused
    field = browser.find_element("id", "amount")  # the form is back, the amount editable
    assert field.get_attribute("value") == "99999999999999.99"
    fill(browser, "amount", "12.50")
    click(browser, "review")
    assert "Add 12.50 USD to the balance of bot-02" in browser.find_element("id", "preview").text
    click(browser, "confirm")
    assert outcome(browser).startswith("OK: Added 12.50 USD")
    after = ops.subscriptions(site[1].sessions, OPERATOR, "bot-02", NOW)[0]["balance"]
    assert float(after) - float(before) == pytest.approx(12.5)
    browser.execute_script("document.getElementById('dialog').close()")
    choose(browser, "Manage yen-1", "Add funds")  # JPY has no minor unit
    fill(browser, "amount", "100.5")
    click(browser, "review")
    assert "JPY has no decimal places" in browser.find_element("id", "amount-error").text
    fill(browser, "amount", "100")
    click(browser, "review")
    assert "Add 100 JPY" in browser.find_element("id", "preview").text


def test_invoices_are_sorted_by_number(browser: Any, site: tuple[str, World]) -> None:
    open_page(browser, site, "/invoices")
    numbers = browser.execute_script(
        "return [...document.querySelectorAll('#invoices tbody tr')].map(r => r.dataset.number)"
    )
    drafts = [n for n in numbers if not n]
    finalized = [n for n in numbers if n]
    assert numbers == drafts + finalized  # drafts (in progress) first
    assert len(finalized) == 18 and finalized == sorted(finalized, reverse=True)
    covered = browser.execute_script(
        "return [...document.querySelectorAll('#invoices tbody tr')]"
        ".map(r => r.querySelector('.period').innerText)"
    )
    assert covered.count("Sep 1 \N{EN DASH} Sep 30, 2026") == 9  # bot-01..09's September


@pytest.mark.parametrize("page", ["/plans", "/invoices"])
def test_a_bot_the_address_cannot_show_is_named_with_what_is_shown(
    browser: Any, site: tuple[str, World], page: str
) -> None:
    from selenium.webdriver.support.ui import Select

    def visit(query: str) -> None:  # signed in first: the sign-in form drops the query
        open_page(browser, site, page)
        browser.get(f"{site[0]}{page}{query}")
        settled(browser)

    visit("?app=app-99")
    notice = browser.find_element("id", "notice")
    assert notice.is_displayed()
    assert notice.text == (
        "The address asks for the bot “app-99”, which is not one of your bots; "
        "showing all bots instead."
    )
    assert browser.find_element("id", "bot").get_attribute("value") == ""
    table = "#bots" if page == "/plans" else "#invoices"
    shown = browser.execute_script(
        f"return new Set([...document.querySelectorAll('{table} tbody tr')]"
        ".map(r => r.dataset.app || r.cells[1].innerText)).size"
    )
    assert shown > 1  # every bot, as the notice says
    shot(browser, f"bad-address{page.replace('/', '-')}")
    Select(browser.find_element("id", "bot")).select_by_value("bot-01")
    wait_for(lambda: not notice.is_displayed(), 10, lambda: notice.text)  # the user chose
    visit("?app=bot-02")  # a bot of theirs: shown, nothing to say
    assert browser.find_element("id", "bot").get_attribute("value") == "bot-02"
    assert not browser.find_element("id", "notice").is_displayed()


def test_an_extension_request_names_the_plan_and_its_end(
    browser: Any, site: tuple[str, World]
) -> None:
    open_page(browser, site, "/plans", "alice")
    choose(browser, "Manage trial-1", "Request a plan extension")
    fill(browser, "days", "5")
    click(browser, "review")
    preview = browser.find_element("id", "preview").text
    assert preview == "Ask for 5 more days of Trial (now ending Dec 1, 2026)?"
    # a refusal (answered here by the page's own fetch, so the world is unchanged) brings the
    # form back with what was typed, editable, and the reason in sentences of its own
    browser.execute_script(
        "window.fetch = async () => new Response(JSON.stringify("
        "{error: 'trial-1 already has an extension request waiting'}),"
        " {status: 409, headers: {'Content-Type': 'application/json'}})"
    )
    click(browser, "confirm")
    wait_for(lambda: bool(browser.find_elements("id", "days")), 10, lambda: "no form")
    error = browser.find_element("css selector", "#dialog .error").text
    assert error == (
        "Could not request the extension. trial-1 already has an extension request waiting."
    )
    assert browser.find_element("id", "days").get_attribute("value") == "5"
    fill(browser, "days", "7")
    click(browser, "review")
    assert browser.find_element("id", "preview").text.startswith("Ask for 7 more days of Trial")
    click(browser, "back")
    assert browser.find_element("id", "days").get_attribute("value") == "7"
    assert browser.find_element("css selector", "#dialog .error").text == ""
