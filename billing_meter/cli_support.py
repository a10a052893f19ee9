"""Helpers of the billing commands: the clock, the store, output, refusals, registration."""

from __future__ import annotations

import argparse
import csv
import io
import os
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson

from billing import db, operations
from billing.errors import BillingError

Handler = Callable[[argparse.Namespace], int]


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
    """The money store of ``--db`` (migrated)."""
    return db.open_store(args.db)


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


def with_db(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``--db URL``, which every billing command takes."""
    parser.add_argument(
        "--db",
        metavar="URL",
        default=None,
        help="sqlite:///path or postgresql://user@host/db "
        "(default: $BILLING_DB_URL or ./billing-data/billing.db)",
    )
    return parser


def add_format(parser: argparse.ArgumentParser, *formats: str) -> None:
    """``--format``, the first of ``formats`` by default."""
    parser.add_argument("--format", choices=formats, default=formats[0])


def whole_days(text: str) -> int:
    """An argparse type: a whole number."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None


def row_id(text: str) -> int:
    """An argparse type: a row id, 1-18 ASCII digits (it fits a 64-bit column)."""
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise argparse.ArgumentTypeError(f"{text[:32]!r} is not an id of at most 18 digits")
    return int(text)


class Registrar:
    """Adds commands and command groups, each with ``--db`` and its handler wrapped."""

    def __init__(self, commands: Any, wrap: Callable[[Handler], Handler]) -> None:
        self.commands, self.wrap = commands, wrap

    def command(self, parent: Any, name: str, handler: Handler, help_: str) -> Any:
        parser = with_db(parent.add_parser(name, help=help_))
        parser.set_defaults(run=self.wrap(handler))
        return parser

    def group(self, name: str, help_: str) -> Any:
        parser = self.commands.add_parser(name, help=help_)
        return parser.add_subparsers(
            dest=f"{name}_command", required=True, parser_class=type(parser)
        )
