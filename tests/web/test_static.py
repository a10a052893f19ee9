"""The console pages' files: self-contained (no CDN), small, and readable (WCAG AA contrast)."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from web.server import ASSETS, asset

HTML = ("usage.html", "plans.html", "invoices.html", "login.html")
PAGES = (*HTML, *ASSETS)
BUDGET = 45_000  # bytes a page loads (its HTML and the files it names), uncompressed


def luminance(color: str) -> float:
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def css_variables() -> dict[str, str]:
    css = asset("usage.css").decode()
    return dict(re.findall(r"--([a-z]+):\s*(#[0-9a-fA-F]{6})", css))


@pytest.mark.parametrize(
    ("foreground", "background"),
    [
        ("fg", "bg"),
        ("muted", "bg"),
        ("muted", "panel"),
        ("billing", "bg"),
        ("voice", "bg"),
        ("agents", "bg"),
        ("error", "bg"),
        ("focus", "bg"),
    ],
)
def test_colors_meet_wcag_aa(foreground: str, background: str) -> None:
    colors = css_variables()
    assert contrast(colors[foreground], colors[background]) >= 4.5


def test_the_page_loads_nothing_from_other_hosts() -> None:
    for name in PAGES:
        text = asset(name).decode()
        assert not re.search(r"(src|href)=\"(https?:)?//", text), name
        assert "@import" not in text, name


def named(page: str) -> set[str]:
    """The files a page loads (scripts and styles; not the links to the other pages)."""
    return set(re.findall(r'(?:src|href)="/([^"/]+\.(?:js|css))"', asset(page).decode()))


@pytest.mark.parametrize("page", HTML)
def test_each_page_is_small(page: str) -> None:
    total = len(asset(page)) + sum(len(asset(name)) for name in named(page))
    assert total < BUDGET, total


@pytest.mark.parametrize("page", HTML)
def test_every_asset_a_page_names_is_served(page: str) -> None:
    assert named(page) <= set(ASSETS)
    assert resources.files("web").joinpath("static", page).is_file()


BADGES = re.compile(r"\.badge\.([a-z, .]+)\{ background: (#[0-9a-f]{6}); color: (#[0-9a-f]{6}); \}")


def test_status_badges_meet_wcag_aa() -> None:
    found = BADGES.findall(asset("usage.css").decode().replace("{", "{ ").replace("  ", " "))
    assert len(found) >= 4, found
    for name, background, foreground in found:
        assert contrast(foreground, background) >= 4.5, name
