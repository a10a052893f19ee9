"""Issue #23 item 6 on the Usage page in headless Chromium: address filters that cannot be
used are said, zones by their IANA names, Apply and Back as history, whole-number ticks,
agents on an axis of their own, thousands separators and errors as sentences. The usage
store is ``console_world.Scaled``: the test sets how many sessions each day has."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.integration.browser import ARTIFACTS, chrome
from tests.integration.console_pages import settled
from tests.integration.workers import wait_for
from tests.web.console_world import World, console_world
from tests.web.served import served


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    world = console_world(f"sqlite:///{tmp_path_factory.mktemp('usage') / 'b.db'}")
    with served(world.app) as base:
        yield base, world


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    yield from chrome(tmp_path)


def open_usage(browser: Any, site: tuple[str, World], query: str = "") -> str:
    base, world = site
    browser.get(f"{base}/usage{query}")
    if browser.find_elements("id", "token"):
        browser.find_element("id", "token").send_keys(world.keys["root"])
        browser.find_element("id", "token").submit()
        wait_for(lambda: not browser.find_elements("id", "token"), 15, lambda: browser.title)
        browser.get(f"{base}/usage{query}")
    return settled(browser)


def shot(browser: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / f"usage-{name}.png"))


def address(browser: Any) -> dict[str, str]:
    parts = urlsplit(browser.current_url)
    assert parts.path == "/usage", browser.current_url
    return {k: v[0] for k, v in parse_qs(parts.query).items()}


def test_filters_the_address_cannot_use_are_named_with_what_is_shown(
    browser: Any, site: tuple[str, World]
) -> None:
    open_usage(browser, site, "?app=app-99&tz=Mars/Olympus&range=bogus")
    notice = browser.find_element("id", "notice")
    assert notice.is_displayed()
    lines = notice.text.splitlines()
    zone = browser.find_element("id", "tz").get_attribute("value")
    assert any("“bogus”" in line and "Last 7 days instead" in line for line in lines), lines
    assert any("“Mars/Olympus”" in line and f"showing {zone} instead" in line for line in lines)
    assert any("“app-99”" in line and "all apps instead" in line for line in lines), lines
    asked = site[1].usage.asked[-1]  # what was shown is what was asked for
    assert (asked["tz"], asked["app_id"], asked["end_ms"] - asked["start_ms"]) == (
        zone,
        None,
        7 * 86_400_000,
    )
    shot(browser, "bad-address")
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element("id", "range")).select_by_value("24h")
    wait_for(lambda: not notice.is_displayed(), 10, lambda: notice.text)  # the user chose


def test_the_browsers_zone_is_the_default_by_its_iana_name(
    browser: Any, site: tuple[str, World]
) -> None:
    browser.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "Asia/Calcutta"})
    open_usage(browser, site)
    reported = browser.execute_script("return Intl.DateTimeFormat().resolvedOptions().timeZone")
    assert reported in ("Asia/Calcutta", "Asia/Kolkata")  # Chromium says Calcutta today
    zone = browser.find_element("id", "tz")
    assert zone.get_attribute("value") == "Asia/Kolkata"
    options = browser.execute_script(
        "return [...document.getElementById('tz').options].map(o => [o.value, o.text])"
    )
    assert [o for o in options if "Calcutta" in o[0] + o[1]] == []
    assert [o for o in options if o[0] == "Asia/Kolkata"] == [
        ["Asia/Kolkata", "Asia/Kolkata (this browser)"]
    ]
    assert len({o[0] for o in options}) == len(options)  # every zone once
    assert address(browser)["tz"] == "Asia/Kolkata"
    assert site[1].usage.asked[-1]["tz"] == "Asia/Kolkata"
    open_usage(browser, site, "?tz=Asia/Calcutta")  # an old bookmark: the same zone, no notice
    assert zone.parent.find_element("id", "tz").get_attribute("value") == "Asia/Kolkata"
    assert not browser.find_element("id", "notice").is_displayed()


def test_each_apply_is_a_history_entry_and_back_restores_it(
    browser: Any, site: tuple[str, World]
) -> None:
    from selenium.webdriver.support.ui import Select

    open_usage(browser, site)
    start = browser.execute_script("return history.length")
    for value in ("24h", "30d"):
        browser.execute_script("document.body.setAttribute('aria-busy', 'true')")
        Select(browser.find_element("id", "range")).select_by_value(value)
        settled(browser)
    browser.execute_script("document.body.setAttribute('aria-busy', 'true')")
    Select(browser.find_element("id", "by")).select_by_value("week")
    settled(browser)
    assert address(browser)["by"] == "week"
    browser.execute_script("document.body.setAttribute('aria-busy', 'true')")
    browser.find_element("id", "apply").click()  # the same filters again: no second entry
    settled(browser)
    assert browser.execute_script("return history.length") == start + 3
    expected = [("30d", "day"), ("24h", "hour"), ("7d", "day")]
    browser.execute_script("document.body.setAttribute('aria-busy', 'true')")
    for range_, by in expected:
        browser.back()
        wait_for(lambda r=range_: address(browser).get("range") == r, 10, browser.current_url)
        settled(browser)
        assert browser.find_element("id", "range").get_attribute("value") == range_
        assert browser.find_element("id", "by").get_attribute("value") == by
        rows = browser.find_elements("css selector", "#table tbody tr")
        assert len(rows) == {"7d": 7, "24h": 24, "30d": 30}[range_]
        browser.execute_script("document.body.setAttribute('aria-busy', 'true')")
    browser.execute_script("document.body.setAttribute('aria-busy', 'false')")
    assert urlsplit(browser.current_url).path == "/usage"  # Back never left the page


def chart_facts(browser: Any) -> dict[str, Any]:
    return dict(
        browser.execute_script(
            "const svg = document.querySelector('#chart svg');"
            "const box = (s) => svg.querySelector('polyline.series.' + s).getBBox();"
            "return {ticks: [...svg.querySelectorAll('text.tick')].map(t => t.textContent),"
            " agents: box('agents').height, sessions: box('billing').height,"
            " cells: [...document.querySelectorAll('#table tbody tr:first-child td')]"
            "   .map(c => c.textContent),"
            " total: document.querySelector('#table tfoot td:nth-child(2)').textContent,"
            " card: document.getElementById('total-billing').textContent}"
        )
    )


@pytest.mark.parametrize("sessions", [10, 21, 150, 10_000])
def test_ticks_are_whole_and_the_agents_line_has_its_own_axis(
    browser: Any, site: tuple[str, World], sessions: int
) -> None:
    site[1].usage.sessions = sessions
    open_usage(browser, site, "?range=7d&by=day&tz=UTC")
    facts = chart_facts(browser)
    assert facts["ticks"] and all(t.replace(",", "").isdigit() for t in facts["ticks"]), facts
    # agents go from 5 to 40 each week: the line spans most of its 96-unit panel whatever
    # the sessions are (on the sessions' axis, 35 of 10,000 would be under one unit high)
    assert facts["agents"] > 0.7 * 96, facts
    count = f"{sessions:,}"
    assert facts["cells"][0] == count and facts["total"] == f"{7 * sessions:,}", facts
    assert facts["card"] == f"{7 * sessions:,}"
    shot(browser, f"agents-at-{sessions}-sessions")


def test_an_api_refusal_is_said_in_sentences_of_its_own(
    browser: Any, site: tuple[str, World]
) -> None:
    status = open_usage(browser, site, "?range=custom&from=1900-01-01&to=1900-01-03&by=day")
    assert status.startswith("Could not load usage. From: '1900-01-01' is outside 1970-2999. ")
    assert status.endswith(" The filters still work; choose Apply to try again.")
    assert "answered" not in status and "400" not in status
    shot(browser, "refused")


def agents_line(browser: Any, site: tuple[str, World], sessions: int) -> dict[str, Any]:
    """The agents line's points and box with ``sessions`` billing sessions a day."""
    site[1].usage.sessions = sessions
    open_usage(browser, site, "?range=7d&by=day&tz=UTC")
    shot(browser, f"compare-agents-at-{sessions}-sessions")
    return dict(
        browser.execute_script(
            "const line = document.querySelector('#chart svg polyline.series.agents');"
            "const box = line.getBBox();"
            "return {points: line.getAttribute('points'), height: box.height,"
            " top: line.getBoundingClientRect().top, bottom: line.getBoundingClientRect().bottom}"
        )
    )


def test_the_agents_line_reads_the_same_at_10_and_at_10000_sessions(
    browser: Any, site: tuple[str, World]
) -> None:
    few, many = agents_line(browser, site, 10), agents_line(browser, site, 10_000)
    # its own axis: a thousandfold more sessions moves none of its points, and 5..40 agents
    # span most of its 96-unit panel (on a shared axis they would be a flat line at 10,000)
    assert few["points"] == many["points"], (few, many)
    assert few["height"] > 0.7 * 96 and many["height"] > 0.7 * 96, (few, many)
    assert many["bottom"] - many["top"] > 50  # on screen, in CSS pixels
