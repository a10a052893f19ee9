"""HTTP API on the worker's web server: ``/api/usage``, ``/api/apps``, ``/api/health``."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Mapping
from typing import Any

from pipeline import report
from sinks.clickhouse.store import ClickHouseStore


def usage_from_query(
    store: ClickHouseStore, lock: threading.Lock, query: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The SPEC section 6 report for the query parameters; raises ``ReportError``."""
    allowed = {"by", "from", "to", "range", "app", "all_apps"}
    unknown = sorted(set(query) - allowed)
    if unknown:
        raise report.ReportError(f"unknown parameter: {', '.join(unknown)}")
    all_apps = query.get("all_apps", "")
    if all_apps not in {"", "0", "1", "true", "false"}:
        raise report.ReportError("all_apps: use 1 or 0")
    request = report.resolve(
        now_ms=int(time.time() * 1000),
        by=query.get("by") or None,
        range_=query.get("range") or None,
        start=query.get("from") or None,
        end=query.get("to") or None,
        app_id=query.get("app"),
        all_apps=all_apps in {"1", "true"},
    )
    with lock:
        return report.fetch(store, request)


async def usage_async(
    store: ClickHouseStore, lock: threading.Lock, query: Mapping[str, str]
) -> list[dict[str, Any]]:
    """:func:`usage_from_query` off the event loop."""
    return await asyncio.to_thread(usage_from_query, store, lock, query)


async def apps_async(store: ClickHouseStore, lock: threading.Lock) -> list[str]:
    """App ids with activity, off the event loop."""

    def run() -> list[str]:
        with lock:
            return store.apps()

    return await asyncio.to_thread(run)
