"""Set-up of the invoice tests: a subscription with a month of usage posted."""

from __future__ import annotations

import io

from pypdf import PdfReader

from billing.finalize import InvoiceSettings
from billing.operations import Sessions
from billing.posting import PeriodQuantities, post_once
from tests.billing.helpers import ms, seed, subscribe

OCTOBER = ms("2026-10-01T00:00:00+00:00")
NOVEMBER = ms("2026-11-01T00:00:00+00:00")
SETTINGS = InvoiceSettings(seller=("Acme Bots Ltd", "1 Market Street"))


class Source:
    """Quantities per app and period, changed by the test as sessions "arrive"."""

    def __init__(self) -> None:
        self.quantities: dict[str, PeriodQuantities] = {}

    def period_quantities(
        self, app_id: str, start_ms: int, end_ms: int, tz: str
    ) -> PeriodQuantities:
        return {
            k: dict(v) for k, v in self.quantities.get(app_id, {}).items() if start_ms <= k < end_ms
        }


def october(sessions: Sessions, apps: int = 1) -> Source:
    """Apps bot-0.. on starter from October 1st (UTC), October's usage posted on the 31st."""
    seed(sessions, ms("2026-10-01T00:00:00+00:00"))
    source = Source()
    for n in range(apps):
        subscribe(sessions, f"bot-{n}", start="2026-10-01", now_ms=ms("2026-10-01T00:00:00+00:00"))
        source.quantities[f"bot-{n}"] = {
            OCTOBER: {"billing_sessions": 1234 + n, "voice_sessions": 250, "agents": 4}
        }
    post_once(sessions, source, ms("2026-10-31T12:00:00+00:00"))
    return source


def pdf_text(body: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def pdftotext_pages(body: bytes) -> list[str]:
    """The text of each page of a PDF as poppler's ``pdftotext -layout`` reads it."""
    import subprocess

    done = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=body, capture_output=True, check=True
    )
    pages = done.stdout.decode().split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages
