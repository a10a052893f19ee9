"""Building blocks of the billing commands' parsers.

Only the standard library: ``billing-meter --help`` builds every parser, and a handler's
module (with SQLAlchemy, the PDF writer...) is imported only when its command runs.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from typing import Any

Handler = Callable[[argparse.Namespace], int]


class UserError(Exception):
    """Reported as ``billing-meter: error: MESSAGE`` with exit status 2."""


def store_option(parser: argparse.ArgumentParser) -> None:
    """``--clickhouse URL``, the store of the metering commands."""
    parser.add_argument(
        "--clickhouse",
        metavar="URL",
        default=None,
        help="chdb:///path or http://user:pass@host:8123/db "
        "(default: $CLICKHOUSE_URL or ./billing-data/chdb)",
    )


def lazy_handler(ref: str) -> Handler:
    """The handler ``"module:function"`` (a module of ``billing_meter``), imported on first call."""
    module_name, _, function = ref.partition(":")

    def run(args: argparse.Namespace) -> int:
        module = importlib.import_module(f"billing_meter.{module_name}")
        handler: Handler = getattr(module, function)
        return handler(args)

    run.__qualname__ = ref
    return run


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

    def command(self, parent: Any, name: str, handler: str, help_: str) -> Any:
        """A command whose ``handler`` is ``"module:function"`` (see :func:`lazy_handler`)."""
        parser = with_db(parent.add_parser(name, help=help_))
        parser.set_defaults(run=self.wrap(lazy_handler(handler)))
        return parser

    def group(self, name: str, help_: str) -> Any:
        parser = self.commands.add_parser(name, help=help_)
        return parser.add_subparsers(
            dest=f"{name}_command", required=True, parser_class=type(parser)
        )
