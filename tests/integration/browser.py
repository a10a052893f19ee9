"""A real headless browser for end-to-end tests: Debian's chromium driven by Selenium.

No browser download: the binaries come from the system (``apt-get install chromium
chromium-driver``, done by ``.ci/run``). Without them the tests skip with the
reason, unless ``BILLING_E2E_REQUIRED=1`` (set by ``.ci/run``) makes that a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ARTIFACTS = Path(os.environ.get("BILLING_TEST_ARTIFACTS", "test-artifacts")).resolve()
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
DRIVERS = ("chromedriver", "chromium-driver")


def _which(names: tuple[str, ...]) -> str | None:
    for name in names:
        found = shutil.which(name) or shutil.which(name, path="/usr/lib/chromium")
        if found:
            return found
    return None


def binaries() -> tuple[str, str]:
    """Paths of the browser and its driver, or skip (fail in CI) naming what is missing."""
    browser, driver = _which(CHROMIUM), _which(DRIVERS)
    if browser and driver:
        return browser, driver
    reason = "no chromium/chromedriver: apt-get install chromium chromium-driver"
    if os.environ.get("BILLING_E2E_REQUIRED") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def chrome(downloads: Path) -> Iterator[object]:
    """A headless Chromium session that saves downloads into ``downloads``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = binaries()
    options = Options()
    options.binary_location = browser
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1100"):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
