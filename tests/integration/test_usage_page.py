"""The Usage page end to end: a worker fed with a known event file, a real headless browser."""

from __future__ import annotations

import csv
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.integration.backends import bootstrap, store_url
from tests.integration.browser import ARTIFACTS, chrome
from tests.integration.test_streaming import _kafka  # noqa: F401 - broker warm-up fixture
from tests.integration.workers import (
    WorkerProcess,
    cli,
    settled_report,
    wait_for,
    write_trace,
)

pytestmark = [pytest.mark.integration, pytest.mark.kafka]
COLUMNS = ("billing_sessions", "usage_sessions", "alert_sessions", "voice_sessions", "agents")


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory, kafka_backend: None) -> Iterator[WorkerProcess]:
    """One worker on embedded ClickHouse that has metered a known file."""
    workdir = tmp_path_factory.mktemp("usage-page")
    prefix = f"t{uuid.uuid4().hex[:10]}."
    trace = workdir / "events.jsonl"
    expected = write_trace(trace, events=3_000, seed=21)
    produced = cli(
        "produce", str(trace), "--topic-prefix", prefix, "--bootstrap", bootstrap(), cwd=workdir
    )
    assert produced.returncode == 0, produced.stderr
    worker = WorkerProcess(workdir, prefix, store=store_url(workdir, prefix)).start()
    try:
        settled_report(worker, expected, 120)
        yield worker
    finally:
        worker.stop()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    yield from chrome(tmp_path)


def open_page(browser: Any, worker: WorkerProcess) -> None:
    """The Usage page, signed in with the worker's token (no page is open without one)."""
    browser.get(f"http://127.0.0.1:{worker.port}/usage")
    if _has(browser, "token"):
        token = browser.find_element("id", "token")
        token.send_keys(worker.token)
        token.submit()
        wait_for(lambda: _has(browser, "filters"), 15, lambda: browser.page_source[:500])
    settled(browser)


def settled(browser: Any) -> str:
    """Wait until the page has finished loading; its status line."""
    wait_for(
        lambda: browser.execute_script("return document.body.getAttribute('aria-busy')") == "false",
        30,
        lambda: browser.find_element("id", "status").text,
    )
    return str(browser.find_element("id", "status").text)


def apply(browser: Any) -> str:
    browser.execute_script("document.body.setAttribute('aria-busy', 'true')")
    browser.find_element("id", "apply").click()
    return settled(browser)


def choose(browser: Any, element_id: str, value: str) -> str:
    from selenium.webdriver.support.ui import Select

    browser.execute_script("document.body.setAttribute('aria-busy', 'true')")
    Select(browser.find_element("id", element_id)).select_by_value(value)
    if element_id == "range" and value == "custom":
        browser.execute_script("document.body.setAttribute('aria-busy', 'false')")
        return ""
    return settled(browser)


def table(browser: Any) -> dict[str, list[int]]:
    """The table's rows: period -> the five counts."""
    rows = browser.execute_script(
        "return [...document.querySelectorAll('#table tbody tr')].map("
        "r => [r.dataset.period, ...[...r.querySelectorAll('td')].map(c => c.textContent)])"
    )
    return {row[0]: [int(v.replace(",", "")) for v in row[1:]] for row in rows}


def assert_table_equals_api(browser: Any, api: list[dict[str, Any]]) -> None:
    shown = table(browser)
    assert shown, "the table is empty"
    for row in api:
        assert shown[row["period"]] == [row[c] for c in COLUMNS], row["period"]
    empty = set(shown) - {row["period"] for row in api}
    assert all(shown[p] == [0] * 5 for p in empty)


def screenshot(browser: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def test_table_totals_and_tooltip_equal_the_api(browser: Any, fed: WorkerProcess) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    open_page(browser, fed)
    api = fed.get("/api/usage?range=7d&by=day&all_apps=1")
    assert api, "the fed worker serves no usage"
    assert_table_equals_api(browser, api)
    total = browser.find_element("id", "total-billing").text.replace(",", "")
    assert int(total) == sum(r["billing_sessions"] for r in api)
    assert int(browser.find_element("id", "total-voice").text) == sum(
        r["voice_sessions"] for r in api
    )
    busiest = max(api, key=lambda r: r["billing_sessions"])
    index = browser.execute_script(
        "return [...document.querySelectorAll('#table tbody tr')]"
        ".findIndex(r => r.dataset.period === arguments[0])",
        busiest["period"],
    )
    point = browser.find_element(
        "css selector", f'circle[data-index="{index}"][data-series="billing_sessions"]'
    )
    ActionChains(browser).move_to_element(point).perform()
    tooltip = browser.find_element("id", "tooltip")
    wait_for(tooltip.is_displayed, 5, lambda: "tooltip not shown")
    assert tooltip.get_attribute("data-period") == busiest["period"]
    values = {
        field: int(tooltip.find_element("css selector", f'dd[data-field="{field}"]').text)
        for field in ("sessions", "voice", "agents")
    }
    assert values == {
        "sessions": busiest["billing_sessions"],
        "voice": busiest["voice_sessions"],
        "agents": busiest["agents"],
    }
    assert (
        "Sessions" in tooltip.text and "Voice sessions" in tooltip.text and "Agents" in tooltip.text
    )
    screenshot(browser, "usage-page-7d-tooltip")


def test_filters_switch_app_range_and_granularity(browser: Any, fed: WorkerProcess) -> None:
    open_page(browser, fed)
    status = choose(browser, "app", "app-1")
    assert "app app-1" in status
    assert_table_equals_api(browser, fed.get("/api/usage?range=7d&by=day&app=app-1"))
    choose(browser, "range", "24h")
    assert browser.find_element("id", "by").get_attribute("value") == "hour"
    assert_table_equals_api(browser, fed.get("/api/usage?range=24h&by=hour&app=app-1"))
    choose(browser, "range", "30d")
    choose(browser, "by", "week")
    assert_table_equals_api(browser, fed.get("/api/usage?range=30d&by=week&app=app-1"))
    today = datetime.now(UTC).date()
    start = today - timedelta(days=6)
    choose(browser, "range", "custom")
    set_value(browser, "from", start.isoformat())
    set_value(browser, "to", today.isoformat())
    set_value(browser, "by", "day")
    apply(browser)
    end = (today + timedelta(days=1)).isoformat()
    assert_table_equals_api(browser, fed.get(f"/api/usage?from={start}&to={end}&by=day&app=app-1"))
    screenshot(browser, "usage-page-custom-app-1")


@pytest.mark.parametrize("tz", ["Asia/Kolkata", "Asia/Kathmandu"])
def test_the_time_zone_lays_out_the_zones_periods_and_stays_in_the_url(
    browser: Any, fed: WorkerProcess, tz: str
) -> None:
    open_page(browser, fed)
    choose(browser, "tz", tz)
    assert_table_equals_api(browser, fed.get(f"/api/usage?range=7d&by=day&all_apps=1&tz={tz}"))
    choose(browser, "range", "24h")
    hourly = fed.get(f"/api/usage?range=24h&by=hour&all_apps=1&tz={tz}")
    assert_table_equals_api(browser, hourly)
    offset = "+05:30" if tz == "Asia/Kolkata" else "+05:45"
    assert all(period.endswith(offset) for period in table(browser))
    assert len(table(browser)) == 24
    assert f"tz={tz.replace('/', '%2F')}" in browser.current_url
    browser.get(browser.current_url)  # a bookmarked view opens as it was left
    settled(browser)
    assert browser.find_element("id", "tz").get_attribute("value") == tz
    assert_table_equals_api(browser, hourly)
    screenshot(browser, f"usage-page-{tz.replace('/', '-')}")


def set_value(browser: Any, element_id: str, value: str) -> None:
    browser.execute_script(
        "const e = document.getElementById(arguments[0]); e.value = arguments[1];"
        "e.dispatchEvent(new Event('change'))",
        element_id,
        value,
    )


def test_keyboard_moves_between_points_and_shows_the_tooltip(
    browser: Any, fed: WorkerProcess
) -> None:
    from selenium.webdriver.common.keys import Keys

    open_page(browser, fed)
    first = browser.find_element(
        "css selector", 'circle[data-index="0"][data-series="billing_sessions"]'
    )
    assert first.get_attribute("tabindex") == "0"
    browser.execute_script("arguments[0].focus()", first)
    first.send_keys(Keys.ARROW_RIGHT)
    tooltip = browser.find_element("id", "tooltip")
    assert tooltip.is_displayed()
    periods = list(table(browser))
    assert tooltip.get_attribute("data-period") == periods[1]
    labels = browser.execute_script(
        "return [...document.querySelectorAll('select, input')]"
        ".filter(e => !e.labels.length).length"
    )
    assert labels == 0, "every control has a label"


def test_csv_download_equals_the_table(browser: Any, fed: WorkerProcess, tmp_path: Path) -> None:
    open_page(browser, fed)
    browser.find_element("id", "csv").click()
    wait_for(lambda: any(tmp_path.glob("usage-*.csv")), 15, lambda: str(list(tmp_path.iterdir())))
    path = next(tmp_path.glob("usage-*.csv"))
    with path.open() as stream:
        rows = list(csv.DictReader(stream))
    assert {r["period"]: [int(r[c]) for c in COLUMNS] for r in rows} == table(browser)
    assert {r["app_id"] for r in rows} == {"*"}


def test_empty_and_error_states_say_what_is_going_on(browser: Any, fed: WorkerProcess) -> None:
    open_page(browser, fed)
    choose(browser, "range", "custom")
    set_value(browser, "from", "2020-01-01")
    set_value(browser, "to", "2020-01-07")
    assert "No sessions" in apply(browser)
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/api/usage*"]})
    status = apply(browser)
    assert "Could not load usage" in status
    assert "Apply to try again" in status
    screenshot(browser, "usage-page-api-down")
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    assert "No sessions" in apply(browser)
    set_value(browser, "to", "2019-12-01")
    assert "must not be before" in apply(browser)


def test_a_slow_api_shows_loading_then_the_data(browser: Any, fed: WorkerProcess) -> None:
    import time

    open_page(browser, fed)
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 2500, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    try:
        browser.find_element("id", "apply").click()
        time.sleep(0.5)
        status = browser.find_element("id", "status")
        assert status.text == "Loading usage…"
        assert browser.execute_script("return document.body.getAttribute('aria-busy')") == "true"
        assert browser.find_element("id", "app").is_enabled()  # filters stay usable
        assert "Showing all apps" in settled(browser)
    finally:
        browser.execute_cdp_cmd(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
    assert_table_equals_api(browser, fed.get("/api/usage?range=7d&by=day&all_apps=1"))


@pytest.mark.parametrize(
    ("query", "by"),
    [
        ("range=24h&all_apps=1", "hour"),
        ("range=7d&app=app-1", "day"),
        ("range=30d&by=week&all_apps=1", "week"),
        ("from=2026-01-01&to=2026-03-01&by=month&app=app-2", "month"),
        ("from=2026-11-01T06:00:00Z&to=2026-11-02T06:00:00Z&by=hour", "hour"),
    ],
)
def test_api_filters_report_their_resolved_range(fed: WorkerProcess, query: str, by: str) -> None:
    with urllib.request.urlopen(fed.request(f"/api/usage?{query}"), timeout=10) as r:  # noqa: S310
        assert r.headers["X-Usage-By"] == by
        start, end = r.headers["X-Usage-From"], r.headers["X-Usage-To"]
        assert start < end
        rows = orjson.loads(r.read())
    assert all(start[: len(row["period"])] <= row["period"] < end for row in rows)


def test_a_years_long_hourly_range_is_refused(fed: WorkerProcess) -> None:
    status, body = fed.status("/api/usage?from=2020-01-01&to=2026-01-01&by=hour")
    assert status == 400
    assert "at most 2000 periods" in body["error"]


def test_token_protects_the_api_and_the_page(tmp_path: Path, browser: Any) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}."
    worker = WorkerProcess(
        tmp_path,
        prefix,
        roles="sink,web",
        store=store_url(tmp_path, prefix),
        env={"BILLING_API_TOKEN": "s3cret-token"},
    ).start()
    try:
        base = f"http://127.0.0.1:{worker.port}"
        assert worker.status("/api/usage?range=7d", anonymous=True)[0] == 401
        assert worker.status("/api/apps", anonymous=True)[0] == 401
        request = urllib.request.Request(
            f"http://127.0.0.1:{worker.port}/api/usage?range=7d",
            headers={"Authorization": "Bearer s3cret-token"},
        )
        with urllib.request.urlopen(request, timeout=10) as r:  # noqa: S310 - http, built above
            assert r.status == 200
        assert "billing_events_total" in worker.text("/metrics")  # scrapers need no token
        browser.get(f"{base}/usage")
        token = browser.find_element("id", "token")
        token.send_keys("wrong")
        token.submit()
        # The refusal is a new page: read the text through the DOM once it is there, not
        # through an element handle that may still belong to the page being replaced.
        wait_for(lambda: "not valid" in _error_text(browser), 15, lambda: browser.page_source[:500])
        token = browser.find_element("id", "token")
        token.send_keys("s3cret-token")
        token.submit()
        wait_for(
            lambda: "/usage" in browser.current_url and _has(browser, "filters"),
            15,
            lambda: browser.page_source[:500],
        )
        assert "No sessions" in settled(browser)
    finally:
        worker.stop()


def _error_text(browser: Any) -> str:
    return str(
        browser.execute_script(
            "const e = document.querySelector('.error'); return e ? e.textContent : ''"
        )
    )


def _has(browser: Any, element_id: str) -> bool:
    return bool(
        browser.execute_script("return !!document.getElementById(arguments[0])", element_id)
    )


def non_loopback_address() -> str | None:
    """This machine's address on its default route (no packet is sent), if it has one."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") else address


def test_the_worker_binds_to_loopback_by_default(fed: WorkerProcess) -> None:
    import socket

    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address to try")
    with pytest.raises(OSError):
        socket.create_connection((address, fed.port), timeout=2).close()
    with urllib.request.urlopen(f"http://127.0.0.1:{fed.port}/api/health", timeout=10) as r:
        assert r.status == 200
