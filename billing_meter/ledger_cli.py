"""``billing-meter balance``, ``ledger``, ``ledger post`` and ``notifications``."""

from __future__ import annotations

import argparse

from billing import operations
from billing.access import OPERATOR
from billing_meter.cli_support import (
    now_ms,
    open_sessions,
    print_data,
)


def _balance(args: argparse.Namespace) -> int:
    rows = operations.subscriptions(open_sessions(args), OPERATOR, args.app, now_ms())
    cols = (
        "app_id",
        "plan",
        "kind",
        "status",
        "balance",
        "currency",
        "period_start",
        "owner",
        "notices",
    )
    print_data(rows, args.format, cols)
    return 0


def _ledger(args: argparse.Namespace) -> int:
    rows = operations.ledger(open_sessions(args), OPERATOR, args.app)
    cols = (
        "id",
        "app_id",
        "kind",
        "amount",
        "currency",
        "period_start",
        "meter",
        "reason",
        "created_at",
    )
    print_data(rows, args.format, cols)
    return 0


def _notifications(args: argparse.Namespace) -> int:
    rows = operations.notifications(open_sessions(args), OPERATOR, args.app)
    print_data(rows, args.format, ("id", "app_id", "kind", "created_at", "published", "data"))
    return 0


def _ledger_post(args: argparse.Namespace) -> int:
    from billing.posting import ReportUsage, post_once  # noqa: PLC0415 - only this needs it
    from billing_meter.settings import post_every_ms  # noqa: PLC0415
    from sinks.clickhouse.store import open_store  # noqa: PLC0415
    from sinks.clickhouse.urls import default_url  # noqa: PLC0415

    every = post_every_ms()  # a bad setting is refused before anything is read or written
    sessions = open_sessions(args)
    store = open_store(args.clickhouse or default_url())
    try:
        result = post_once(sessions, ReportUsage(store), now_ms(), every_ms=every)
    finally:
        store.close()
    print(f"posted {result.entries} ledger entries for {result.subscriptions} subscriptions")
    return 0
