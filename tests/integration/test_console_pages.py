"""The Billing console in headless Chromium (Debian's chromium, Selenium) against a real
worker: the whole flow a bot admin and a bot owner go through, roles, the enterprise
rule, invoice downloads, and accessibility basics. Screenshots go to test-artifacts/."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration.backends import store_url
from tests.integration.browser import ARTIFACTS, chrome
from tests.integration.console_pages import (
    CONTRAST_JS,
    UNLABELLED_JS,
    choose,
    click,
    close_dialog,
    fill,
    open_menu,
    outcome,
    rows,
    settled,
    sign_in,
)
from tests.integration.workers import WorkerProcess, cli_ok, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.kafka]


@pytest.fixture(scope="module")
def console(
    tmp_path_factory: pytest.TempPathFactory, kafka_backend: None
) -> Iterator[tuple[WorkerProcess, dict[str, str]]]:
    """A worker (sink, web, billing) with users, plans, four bots and last month's invoices."""
    work = tmp_path_factory.mktemp("console")
    db = f"sqlite:///{work / 'billing.db'}"

    def money(*args: str) -> Any:
        return cli_ok(*args, "--db", db, cwd=work)

    keys = {
        name: money("users", "add", name, "--role", role)["api_key"]
        for name, role in (
            ("root", "admin"),
            ("alice", "owner"),
            ("carol", "owner"),
            ("bob", "member"),
        )
    }
    plan = (
        "--currency",
        "USD",
        "--included",
        "billing_sessions=1000",
        "--price",
        "billing_sessions=0.05",
    )
    money("plans", "add", "starter", "--name", "Starter", "--fee", "49.00", *plan)
    money("plans", "add", "pro", "--name", "Pro", "--fee", "99.00", *plan)
    money(
        "plans",
        "add",
        "trial",
        "--name",
        "Trial",
        "--fee",
        "10.00",
        "--term-days",
        "30",
        *plan,
    )
    money(
        "plans",
        "add",
        "corp",
        "--name",
        "Corporate",
        "--fee",
        "500.00",
        "--kind",
        "enterprise",
        *plan,
    )
    today = datetime.now(UTC).date()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    for app, plan_code, owner, start in (
        ("app-1", "starter", "alice", last_month),
        ("app-2", "trial", "carol", today - timedelta(days=5)),
        ("app-3", "corp", "alice", last_month),
        ("app-4", "starter", "carol", today),
    ):
        money(
            "subscribe",
            app,
            "--plan",
            plan_code,
            "--owner",
            owner,
            "--start",
            str(start),
        )
    money("funds", "add", "app-1", "150.00")
    prefix = f"t{uuid.uuid4().hex[:10]}."
    env = {
        "BILLING_DB_URL": db,
        "BILLING_INVOICE_GRACE": "0s",
        "BILLING_POST_INTERVAL": "1",
        "BILLING_SELLER": "Acme Bots Ltd|1 Market Street",
    }
    worker = WorkerProcess(work, prefix, "sink,web,billing", store_url(work, prefix), env).start()
    try:
        wait_for(
            lambda: any(
                i["number"] for i in worker.get_as("/api/invoices?app=app-1", keys["root"])
            ),
            60,
            worker.tail,
        )
        yield worker, keys
    finally:
        worker.stop()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    yield from chrome(tmp_path)


def shot(browser: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / f"console-{name}.png"))


def test_an_admin_manages_plans_from_the_plan_page(
    browser: Any, console: tuple[WorkerProcess, dict[str, str]]
) -> None:
    worker, keys = console
    sign_in(browser, worker, keys["root"])
    settled(browser)
    assert set(rows(browser)) == {"app-1", "app-2", "app-3", "app-4"}
    # add funds, and see the balance change
    choose(browser, "Manage app-1", "Add funds")
    fill(browser, "amount", "100.00")
    click(browser, "review")
    click(browser, "confirm")
    result = outcome(browser)
    balance = worker.get_as("/api/subscriptions/app-1", keys["root"])["balance"]
    assert result.startswith("OK: Added 100.00 USD") and balance in result
    close_dialog(browser)
    wait_for(
        lambda: rows(browser)["app-1"]["balance"] == f"{balance} USD",
        10,
        lambda: str(rows(browser)),
    )
    # a malformed amount is refused in words before any confirm step (funds_are_checked_first
    # in test_console_fixes covers every form); nothing changes
    choose(browser, "Manage app-1", "Add funds")
    fill(browser, "amount", "-5")
    click(browser, "review")
    assert not browser.find_elements("id", "confirm")
    assert "without a sign" in browser.find_element("id", "amount-error").text
    shot(browser, "funds-error")
    close_dialog(browser)
    # upgrade, and see the proration before confirming
    choose(browser, "Manage app-1", "Change plan")
    fill(browser, "plan-choice", "pro")
    click(browser, "review")
    preview = worker.get_as("/api/subscriptions/app-1/plan-preview?plan=pro", keys["root"])
    wait_for(lambda: bool(browser.find_elements("id", "preview")), 10, lambda: "no preview")
    assert f"{preview['proration']} USD is charged" in browser.find_element("id", "preview").text
    shot(browser, "upgrade-preview")
    click(browser, "confirm")
    assert outcome(browser).startswith("OK: Changed to Pro. Charged")
    close_dialog(browser)
    # schedule a downgrade, and see the information icon explain it
    choose(browser, "Manage app-1", "Change plan")
    fill(browser, "plan-choice", "starter")
    click(browser, "review")
    wait_for(lambda: bool(browser.find_elements("id", "preview")), 10, lambda: "no preview")
    assert "Downgrade from Pro to Starter on" in browser.find_element("id", "preview").text
    click(browser, "confirm")
    assert outcome(browser).startswith("OK: Scheduled: app-1 moves to Starter on")
    close_dialog(browser)
    wait_for(
        lambda: bool(browser.find_elements("css selector", 'tr[data-app="app-1"] .info-button')),
        10,
        lambda: str(rows(browser)),
    )
    browser.find_element("css selector", 'tr[data-app="app-1"] .info-button').click()
    note = browser.find_element("css selector", 'tr[data-app="app-1"] .popover').text
    assert "Downgrade scheduled: the bot moves to Starter" in note
    shot(browser, "downgrade-notice")


def test_extensions_are_requested_and_approved_and_owners_changed(
    browser: Any, console: tuple[WorkerProcess, dict[str, str]]
) -> None:
    worker, keys = console
    sign_in(browser, worker, keys["carol"])
    settled(browser)
    assert set(rows(browser)) == {"app-2", "app-4"}  # an owner sees only their bots
    before = worker.get_as("/api/subscriptions/app-2", keys["root"])["ends_at"]
    choose(browser, "Manage app-2", "Request a plan extension")
    fill(browser, "days", "10")
    fill(browser, "reason", "pilot runs longer")
    click(browser, "review")
    click(browser, "confirm")
    assert "An admin will approve or reject it" in outcome(browser)
    assert not browser.find_elements(
        "css selector", 'button[aria-label="More actions for app-2"]'
    )  # owners
    sign_in(browser, worker, keys["root"])
    settled(browser)
    choose(browser, "Manage app-2", "Review extension requests")
    wait_for(
        lambda: bool(browser.find_elements("css selector", "#dialog [data-approve]")),
        10,
        lambda: "no request",
    )
    browser.find_element("css selector", "#dialog [data-approve]").click()
    click(browser, "confirm")
    shown = outcome(browser)  # waits for the answer: only then is the approval committed
    after = worker.get_as("/api/subscriptions/app-2", keys["root"])["ends_at"]
    assert shown == f"OK: Approved. The plan of app-2 now ends on {after[:10]}."
    assert datetime.fromisoformat(after) - datetime.fromisoformat(before) == timedelta(days=10)
    close_dialog(browser)
    choose(browser, "More actions for app-2", "Change bot owner")
    fill(browser, "owner-choice", "alice")
    click(browser, "review")
    click(browser, "confirm")
    assert outcome(browser) == "OK: alice now owns app-2."
    close_dialog(browser)
    wait_for(lambda: rows(browser)["app-2"]["owner"] == "alice", 10, lambda: str(rows(browser)))
    sign_in(browser, worker, keys["carol"])
    settled(browser)
    assert set(rows(browser)) == {"app-4"}


def test_a_member_sees_no_billing(
    browser: Any, console: tuple[WorkerProcess, dict[str, str]]
) -> None:
    worker, keys = console
    sign_in(browser, worker, keys["bob"])
    for page in ("/plans", "/invoices", "/usage"):
        browser.get(f"http://127.0.0.1:{worker.port}{page}")
        assert "members have no access" in browser.find_element("id", "no-access").text
        assert not browser.find_elements("css selector", ".console-bar nav")
    shot(browser, "member")


def test_invoices_download_and_enterprise_has_no_orders(
    browser: Any, console: tuple[WorkerProcess, dict[str, str]], tmp_path: Path
) -> None:
    worker, keys = console
    sign_in(browser, worker, keys["alice"], "/invoices")
    settled(browser)
    bots = [o.get_attribute("value") for o in browser.find_elements("css selector", "#bot option")]
    assert "app-1" in bots and "app-3" not in bots  # app-3 is on an Enterprise plan
    link = browser.find_element("css selector", "#invoices a[data-number]")
    number = link.get_attribute("data-number")
    link.click()
    target = tmp_path / f"{number}.pdf"
    wait_for(target.exists, 20, lambda: str(list(tmp_path.iterdir())))
    wait_for(
        lambda: target.stat().st_size > 0 and not list(tmp_path.glob("*.crdownload")),
        20,
        lambda: "partial",
    )
    assert target.read_bytes() == worker.get_as(f"/api/invoices/{number}.pdf", keys["root"])
    shot(browser, "invoices")
    browser.get(f"http://127.0.0.1:{worker.port}/invoices?app=app-3")
    assert "Enterprise plan" in settled(browser)
    browser.get(f"http://127.0.0.1:{worker.port}/plans")
    settled(browser)
    assert "Orders & Invoices" not in open_menu(browser, "Manage app-3")
    assert "Orders & Invoices" in open_menu(browser, "Manage app-1")


def test_keyboard_labels_and_contrast(
    browser: Any, console: tuple[WorkerProcess, dict[str, str]]
) -> None:
    from selenium.webdriver.common.keys import Keys

    worker, keys = console
    sign_in(browser, worker, keys["root"])
    settled(browser)
    manage = browser.find_element("css selector", 'button[aria-label="Manage app-1"]')
    manage.send_keys(Keys.ARROW_DOWN)
    active = browser.switch_to.active_element
    assert active.get_attribute("role") == "menuitem" and active.text == "View plan and usage"
    active.send_keys(Keys.ARROW_DOWN)
    assert browser.switch_to.active_element.text == "Change plan"
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    assert browser.switch_to.active_element == manage
    assert manage.get_attribute("aria-expanded") == "false"
    manage.send_keys(Keys.ENTER)
    for _ in range(3):
        if browser.switch_to.active_element.text == "Add funds":
            break
        browser.switch_to.active_element.send_keys(Keys.ARROW_DOWN)
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    wait_for(
        lambda: browser.switch_to.active_element.get_attribute("id") == "amount",
        10,
        lambda: "focus",
    )
    assert browser.execute_script(UNLABELLED_JS) == []
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    assert not browser.execute_script("return document.getElementById('dialog').open")
    for page in ("/plans", "/invoices", "/usage"):
        browser.get(f"http://127.0.0.1:{worker.port}{page}")
        settled(browser)
        assert browser.execute_script(UNLABELLED_JS) == [], page
        assert browser.execute_script(CONTRAST_JS) == [], page
