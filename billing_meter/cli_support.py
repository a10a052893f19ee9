"""Helpers of the billing commands' handlers: the clock, the store, output, refusals.

The parsers are built from :mod:`billing_meter.cli_args`, which imports no store library."""

from __future__ import annotations

import argparse
import csv
import io
import os
import time
from datetime import datetime
from typing import Any

import orjson

from billing import db, operations
from billing.errors import BillingError
from billing_meter.cli_args import Handler


class BillingCliError(Exception):
    """A refused billing command (one line, exit 2)."""


def now_ms() -> int:
    """``BILLING_NOW`` if set (ISO instant), else the clock."""
    fixed = os.environ.get("BILLING_NOW", "").strip()
    if not fixed:
        return int(time.time() * 1000)
    try:
        moment = datetime.fromisoformat(fixed.replace("Z", "+00:00"))
    except ValueError:
        raise BillingCliError(f"BILLING_NOW {fixed!r} is not an ISO instant") from None
    if moment.tzinfo is None:
        raise BillingCliError("BILLING_NOW needs an offset (…Z or …+05:30)")
    return int(moment.timestamp() * 1000)


def open_sessions(args: argparse.Namespace) -> operations.Sessions:
    """The money store of ``--db`` (migrated), with the policy of the environment
    (``BILLING_EXPIRING_DAYS``: every command judges "expiring" as the worker does)."""
    from billing_meter.settings import expiring_days  # noqa: PLC0415 - settings, not --help

    return db.open_store(args.db, expiring_days())


def print_data(data: Any, fmt: str = "json", columns: tuple[str, ...] = ()) -> None:
    """JSON (indented), CSV or an aligned table of ``columns``."""
    if fmt == "json":
        print(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
        return
    rows = data if isinstance(data, list) else [data]
    cols = columns or tuple(rows[0]) if rows else columns
    cells = [[_cell(row.get(c)) for c in cols] for row in rows]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(cols)
        writer.writerows(cells)
        print(out.getvalue(), end="")
        return
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(cols)]
    for line in [list(cols), *cells]:
        print("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, list):
        return ",".join(map(str, value)) or "-"
    return str(value)


def run_billing(handler: Handler, args: argparse.Namespace) -> int:
    """Run a billing command; its refusals become ``BillingCliError``."""
    try:
        return handler(args)
    except (BillingError, db.StoreError) as exc:
        raise BillingCliError(str(exc)) from None
