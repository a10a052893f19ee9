"""The billing commands of ``billing-meter`` (BILLING-SPEC): plans, subscribe, funds,
plan, extension, owner, balance, ledger, notifications, users, db.

The CLI is the operator's: it acts as an admin. Every command takes ``--db URL``
(default ``$BILLING_DB_URL`` or ``./billing-data/billing.db``) and migrates the store
first. ``BILLING_NOW`` (ISO instant) fixes the clock, for reproducible runs.
"""

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
from billing.access import OPERATOR
from billing.catalog import PlanSpec, parse_meters
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


def _plans_add(args: argparse.Namespace) -> int:
    spec = PlanSpec(
        code=args.code,
        name=args.name,
        currency=args.currency.upper(),
        fee=args.fee,
        included=parse_meters(args.included, "--included"),
        prices=parse_meters(args.price, "--price"),
        kind=args.kind,
        term_days=args.term_days,
    )
    print_data(operations.add_plan(open_sessions(args), OPERATOR, spec, now_ms()))
    return 0


def _plans_list(args: argparse.Namespace) -> int:
    plans = operations.list_plans(open_sessions(args), OPERATOR)
    cols = (
        "code",
        "version",
        "name",
        "kind",
        "currency",
        "monthly_fee",
        "included",
        "unit_price",
        "term_days",
    )
    print_data(plans, args.format, cols)
    return 0


def _subscribe(args: argparse.Namespace) -> int:
    print_data(
        operations.subscribe(
            open_sessions(args),
            OPERATOR,
            app_id=args.app,
            plan=args.plan,
            owner=args.owner,
            start=args.start,
            tz=args.tz,
            low_balance=args.low_balance,
            now_ms=now_ms(),
        )
    )
    return 0


def _funds_add(args: argparse.Namespace) -> int:
    result = operations.add_funds(
        open_sessions(args),
        OPERATOR,
        args.app,
        amount=args.amount,
        key=args.idempotency_key,
        now_ms=now_ms(),
    )
    print_data(result)
    return 0


def _plan_change(args: argparse.Namespace) -> int:
    print_data(operations.change_plan(open_sessions(args), OPERATOR, args.app, args.to, now_ms()))
    return 0


def _plan_cancel(args: argparse.Namespace) -> int:
    print_data(operations.cancel_change(open_sessions(args), OPERATOR, args.app, now_ms()))
    return 0


def _extension_request(args: argparse.Namespace) -> int:
    result = operations.request_extension(
        open_sessions(args), OPERATOR, args.app, days=args.days, reason=args.reason, now_ms=now_ms()
    )
    print_data(result)
    return 0


def _extension_decide(args: argparse.Namespace) -> int:
    approve = args.decision == "approve"
    result = operations.decide_extension(
        open_sessions(args), OPERATOR, args.id, approve=approve, now_ms=now_ms()
    )
    print_data(result)
    return 0


def _owner_change(args: argparse.Namespace) -> int:
    print_data(operations.change_owner(open_sessions(args), OPERATOR, args.app, args.to, now_ms()))
    return 0


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


def _users_add(args: argparse.Namespace) -> int:
    print_data(operations.add_user(open_sessions(args), OPERATOR, args.name, args.role, now_ms()))
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    db.upgrade(db.create(args.db))
    where = db.redacted(args.db or db.default_url())
    print(f"the money store at {where} is at the newest schema")
    return 0


def run_billing(handler: Handler, args: argparse.Namespace) -> int:
    """Run a billing command; its refusals become ``BillingCliError``."""
    try:
        return handler(args)
    except (BillingError, db.StoreError) as exc:
        raise BillingCliError(str(exc)) from None


def _ledger_post(args: argparse.Namespace) -> int:
    from billing.posting import (  # noqa: PLC0415 - only this needs it
        ReportUsage,
        parse_expiring_days,
        post_once,
    )
    from sinks.clickhouse.store import default_url, open_store  # noqa: PLC0415

    sessions = open_sessions(args)
    store = open_store(args.clickhouse or default_url())
    try:
        days = parse_expiring_days(os.environ.get("BILLING_EXPIRING_DAYS") or "7,3,1")
        result = post_once(sessions, ReportUsage(store), now_ms(), days)
    finally:
        store.close()
    print(f"posted {result.entries} ledger entries for {result.subscriptions} subscriptions")
    return 0


def _with_db(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument(
        "--db",
        metavar="URL",
        default=None,
        help="sqlite:///path or postgresql://user@host/db "
        "(default: $BILLING_DB_URL or ./billing-data/billing.db)",
    )
    return parser


def _fmt(parser: argparse.ArgumentParser, *formats: str) -> None:
    parser.add_argument("--format", choices=formats, default=formats[0])


def _days(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None


class Registrar:
    """Adds commands and command groups, each with ``--db`` and its handler wrapped."""

    def __init__(self, commands: Any, wrap: Callable[[Handler], Handler]) -> None:
        self.commands, self.wrap = commands, wrap

    def command(self, parent: Any, name: str, handler: Handler, help_: str) -> Any:
        parser = _with_db(parent.add_parser(name, help=help_))
        parser.set_defaults(run=self.wrap(handler))
        return parser

    def group(self, name: str, help_: str) -> Any:
        parser = self.commands.add_parser(name, help=help_)
        return parser.add_subparsers(
            dest=f"{name}_command", required=True, parser_class=type(parser)
        )


def add_commands(commands: Any, wrap: Callable[[Handler], Handler]) -> None:
    """Register the billing commands on the CLI's subparsers."""
    registrar = Registrar(commands, wrap)
    for add in (_plan_commands, _subscription_commands, _change_commands, _read_commands):
        add(registrar)
    from billing_meter.invoice_cli import add_invoice_commands  # noqa: PLC0415 - it imports us

    add_invoice_commands(registrar)


def _plan_commands(r: Registrar) -> None:
    plans = r.group("plans", "billing plans (BILLING-SPEC §2)")
    add = r.command(plans, "add", _plans_add, "add a plan, or a new version of one")
    add.add_argument("code")
    add.add_argument("--name", required=True)
    add.add_argument("--currency", required=True, help="ISO 4217, e.g. USD")
    add.add_argument("--fee", required=True, help="monthly fee, e.g. 49.00")
    add.add_argument("--included", default="", help="billing_sessions=1000,agents=2,...")
    add.add_argument("--price", default="", help="billing_sessions=0.05,agents=15,...")
    add.add_argument("--kind", choices=("prepaid", "enterprise"), default="prepaid")
    add.add_argument("--term-days", type=_days, default=None)
    _fmt(r.command(plans, "list", _plans_list, "list plans and their versions"), "table", "json")
    users = r.group("users", "users and API keys")
    user = r.command(users, "add", _users_add, "add a user; prints its API key once")
    user.add_argument("name")
    user.add_argument("--role", choices=("admin", "owner", "member"), required=True)
    store = r.group("db", "the money store")
    r.command(store, "upgrade", _db_upgrade, "apply the store's migrations")


def _subscription_commands(r: Registrar) -> None:
    sub = r.command(r.commands, "subscribe", _subscribe, "subscribe an app (bot) to a plan")
    sub.add_argument("app")
    sub.add_argument("--plan", required=True)
    sub.add_argument("--owner", required=True, help="a user (users add)")
    sub.add_argument("--start", metavar="YYYY-MM-DD", help="first day, in --tz (default today)")
    sub.add_argument("--tz", default="UTC", help="IANA zone of the periods (default UTC)")
    sub.add_argument("--low-balance", metavar="AMOUNT", help="default 20%% of the monthly fee")
    funds = r.group("funds", "prepaid balances")
    top = r.command(funds, "add", _funds_add, "add funds to an app's balance")
    top.add_argument("app")
    top.add_argument("amount", help="decimal, e.g. 100.00")
    top.add_argument("--idempotency-key", metavar="KEY")
    owner = r.group("owner", "bot owners")
    own = r.command(owner, "change", _owner_change, "give a bot a new owner")
    own.add_argument("app")
    own.add_argument("--to", required=True, metavar="USER")


def _change_commands(r: Registrar) -> None:
    plan = r.group("plan", "plan changes")
    change = r.command(plan, "change", _plan_change, "upgrade now or schedule a downgrade")
    change.add_argument("app")
    change.add_argument("--to", required=True, metavar="CODE")
    cancel = r.command(plan, "cancel-change", _plan_cancel, "cancel a scheduled downgrade")
    cancel.add_argument("app")
    ext = r.group("extension", "term plan extensions")
    req = r.command(ext, "request", _extension_request, "ask for more days of a term plan")
    req.add_argument("app")
    req.add_argument("--days", type=_days, required=True)
    req.add_argument("--reason", default="")
    for decision in ("approve", "reject"):
        decide = r.command(ext, decision, _extension_decide, f"{decision} an extension request")
        decide.add_argument("id", type=_days)
        decide.set_defaults(decision=decision)


def _read_commands(r: Registrar) -> None:
    bal = r.command(r.commands, "balance", _balance, "balances, status and current usage")
    bal.add_argument("--app")
    _fmt(bal, "table", "json")
    led = r.command(r.commands, "ledger", _ledger, "ledger entries (and: ledger post)")
    led.add_argument("--app")
    _fmt(led, "table", "json", "csv")
    post = r.command(
        led.add_subparsers(dest="ledger_command", parser_class=type(led)),
        "post",
        _ledger_post,
        "post usage charges from ClickHouse once (for cron)",
    )
    post.add_argument("--clickhouse", metavar="URL", help="default $CLICKHOUSE_URL or chdb")
    notes = r.command(r.commands, "notifications", _notifications, "stored notifications")
    notes.add_argument("--app")
    _fmt(notes, "table", "json")
