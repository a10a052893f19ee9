"""Helpers of the Billing console's browser tests: sign-in, menus, dialogs, checks."""

from __future__ import annotations

import time
from typing import Any

from tests.integration.workers import WorkerProcess, wait_for

CONTRAST_JS = """
function lum(rgb) {
  const c = rgb.match(/[\\d.]+/g).slice(0, 3).map(Number).map(v => v / 255)
    .map(v => v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4));
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}
function background(node) {
  for (let n = node; n; n = n.parentElement) {
    const bg = getComputedStyle(n).backgroundColor;
    const alpha = bg.startsWith('rgba') ? Number(bg.match(/[\\d.]+/g)[3]) : 1;
    if (alpha > 0.5) return bg;
  }
  return 'rgb(255, 255, 255)';
}
const bad = [];
for (const node of document.querySelectorAll('body *')) {
  const own = [...node.childNodes].some(c => c.nodeType === 3 && c.textContent.trim());
  if (!own || !node.offsetParent && node.tagName !== 'BODY') continue;
  const fg = lum(getComputedStyle(node).color), bg = lum(background(node));
  const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
  const text = node.textContent.trim().slice(0, 30);
  if (ratio < 4.5) bad.push(node.tagName + ' "' + text + '" ' + ratio.toFixed(2));
}
return bad;
"""

UNLABELLED_JS = """
return [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(e => e.offsetParent !== null || e.closest('dialog[open]'))
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
  .map(e => e.id || e.name || e.tagName);
"""


def settled(browser: Any) -> str:
    wait_for(
        lambda: browser.execute_script("return document.body.getAttribute('aria-busy')") == "false",
        30,
        lambda: browser.page_source[:800],
    )
    return str(browser.find_element("id", "status").text)


def sign_in(browser: Any, worker: WorkerProcess, key: str, page: str = "/plans") -> None:
    browser.delete_all_cookies()
    browser.get(f"http://127.0.0.1:{worker.port}{page}")
    token = browser.find_element("id", "token")
    token.send_keys(key)
    token.submit()
    wait_for(lambda: not _exists(browser, "token"), 15, lambda: browser.page_source[:800])


def _exists(browser: Any, element_id: str) -> bool:
    return bool(
        browser.execute_script("return !!document.getElementById(arguments[0])", element_id)
    )


def rows(browser: Any) -> dict[str, dict[str, str]]:
    """The Plan page's rows: app -> status, plan, balance, owner."""
    data = browser.execute_script(
        "return [...document.querySelectorAll('#bots tbody tr')].map(r => [r.dataset.app,"
        " r.cells[1].innerText, r.querySelector('.plan').innerText,"
        " r.querySelector('.balance').innerText, r.querySelector('.owner').innerText])"
    )
    return {
        app: {"status": status, "plan": plan, "balance": balance, "owner": owner}
        for app, status, plan, balance, owner in data
    }


def open_menu(browser: Any, label: str) -> list[str]:
    """Open the menu button named ``label``; its item texts."""
    browser.find_element("css selector", f'button[aria-label="{label}"]').click()
    items = browser.find_elements("css selector", '[role="menu"]:not([hidden]) [role="menuitem"]')
    return [item.text for item in items]


def choose(browser: Any, label: str, item: str) -> None:
    """Open a menu and choose one of its items (the dialog it opens is waited for)."""
    open_menu(browser, label)
    for element in browser.find_elements(
        "css selector", '[role="menu"]:not([hidden]) [role="menuitem"]'
    ):
        if element.text == item:
            element.click()
            wait_for(
                lambda: bool(
                    browser.execute_script("return document.getElementById('dialog').open")
                ),
                10,
                lambda: "the dialog did not open",
            )
            return
    raise AssertionError(f"no menu item {item!r} in {label}")


def click(browser: Any, element_id: str) -> None:
    wait_for(lambda: _exists(browser, element_id), 15, lambda: _dialog_text(browser))
    browser.find_element("id", element_id).click()


def fill(browser: Any, element_id: str, value: str) -> None:
    wait_for(lambda: _exists(browser, element_id), 15, lambda: _dialog_text(browser))
    field = browser.find_element("id", element_id)
    if field.tag_name == "select":
        from selenium.webdriver.support.ui import Select

        Select(field).select_by_value(value)
    else:
        field.clear()
        field.send_keys(value)


def outcome(browser: Any) -> str:
    """The dialog's result line, or its error in words (whichever comes first)."""

    def seen() -> str:
        return str(
            browser.execute_script(
                "const r = document.getElementById('result');"
                "const e = document.querySelector('#dialog .error');"
                "return r ? 'OK: ' + r.textContent"
                " : (e && e.textContent ? 'ERROR: ' + e.textContent : '')"
            )
        )

    wait_for(lambda: bool(seen()), 15, lambda: _dialog_text(browser))
    return seen()


def close_dialog(browser: Any) -> None:
    browser.execute_script("document.getElementById('dialog').close()")
    time.sleep(0.2)


def _dialog_text(browser: Any) -> str:
    return str(browser.execute_script("return document.getElementById('dialog').innerText"))
