"""``billing-meter accounts add|list|profile`` and ``apps move`` (the operator's CLI)."""

from __future__ import annotations

import argparse

from sqlalchemy import select

from billing import accounts, endpoints
from billing.access import OPERATOR
from billing.models import Account
from billing_meter.cli_support import (
    Registrar,
    add_format,
    now_ms,
    open_sessions,
    print_data,
    row_id,
)


def _profile(args: argparse.Namespace) -> dict[str, str | None]:
    address = None if args.address is None else "\n".join(args.address)
    return {
        "legal_name": args.legal_name,
        "address": address,
        "tax_id": args.tax_id,
        "billing_email": args.email,
    }


def _add(args: argparse.Namespace) -> int:
    with open_sessions(args).begin() as session:
        account = accounts.add_account(session, args.name, _profile(args), now_ms())
        print_data(accounts.account_json(account))
    return 0


def _list(args: argparse.Namespace) -> int:
    with open_sessions(args)() as session:
        rows = [accounts.account_json(a) for a in session.scalars(select(Account).order_by("id"))]
    if args.format != "json":
        rows = [{**row, "address": " / ".join(row["address"])} for row in rows]
    print_data(rows, args.format, ("name", "legal_name", "tax_id", "billing_email", "address"))
    return 0


def _set_profile(args: argparse.Namespace) -> int:
    with open_sessions(args).begin() as session:
        print_data(accounts.account_json(accounts.set_profile(session, args.name, _profile(args))))
    return 0


def _move(args: argparse.Namespace) -> int:
    with open_sessions(args).begin() as session:
        print_data(accounts.move(session, OPERATOR, args.app, args.to, now_ms()))
    return 0


def _hook_add(args: argparse.Namespace) -> int:
    with open_sessions(args).begin() as session:
        account = accounts.account_named(session, args.account)
        print_data(endpoints.add(session, account.id, args.url, now_ms()))
    return 0


def _hook_list(args: argparse.Namespace) -> int:
    with open_sessions(args)() as session:
        account = None if args.account is None else accounts.account_named(session, args.account)
        rows = endpoints.listing(session, None if account is None else account.id)
    print_data(rows, args.format, ("id", "account_id", "url", "rotated"))
    return 0


def _hook_rotate(args: argparse.Namespace) -> int:
    with open_sessions(args).begin() as session:
        print_data(endpoints.rotate(session, args.id, args.overlap_hours, now_ms()))
    return 0


def _hook_remove(args: argparse.Namespace) -> int:
    with open_sessions(args).begin() as session:
        print_data(endpoints.remove(session, args.id, now_ms()))
    return 0


def add_webhook_commands(r: Registrar) -> None:
    """``webhooks add|list|rotate|remove``: an account's endpoints."""
    hooks = r.group("webhooks", "accounts' webhook endpoints (signed per Standard Webhooks)")
    add = r.command(hooks, "add", _hook_add, "add an endpoint; prints its secret once")
    add.add_argument("account")
    add.add_argument("url")
    listing = r.command(hooks, "list", _hook_list, "live endpoints (no secrets)")
    listing.add_argument("--account")
    add_format(listing, "table", "json")
    rotate = r.command(hooks, "rotate", _hook_rotate, "a new secret; the old one signs too a while")
    rotate.add_argument("id", type=row_id)
    rotate.add_argument("--overlap-hours", type=int, default=24)
    remove = r.command(hooks, "remove", _hook_remove, "the endpoint gets nothing more")
    remove.add_argument("id", type=row_id)


def _profile_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name")
    parser.add_argument("--legal-name")
    parser.add_argument("--address", action="append", help="one line (repeat for each line)")
    parser.add_argument("--tax-id")
    parser.add_argument("--email", help="the billing e-mail address")


def add_account_commands(r: Registrar) -> None:
    """``accounts add|list|profile``, ``apps move``."""
    group = r.group("accounts", "accounts (workspaces) and their billing profile")
    _profile_options(r.command(group, "add", _add, "add an account"))
    add_format(r.command(group, "list", _list, "every account"), "table", "json", "csv")
    _profile_options(r.command(group, "profile", _set_profile, "change a billing profile"))
    apps = r.group("apps", "apps and their accounts")
    move = r.command(apps, "move", _move, "move an app (and its subscription) to an account")
    move.add_argument("app")
    move.add_argument("--to", required=True, metavar="ACCOUNT")
