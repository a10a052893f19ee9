"""``billing-meter accounts add|list|profile`` and ``apps move`` (the operator's CLI)."""

from __future__ import annotations

import argparse

from sqlalchemy import select

from billing import accounts, endpoints
from billing.access import OPERATOR
from billing.models import Account
from billing_meter.cli_support import now_ms, open_sessions, print_data


def _profile(args: argparse.Namespace) -> dict[str, str | None]:
    address = None if args.address is None else "\n".join(args.address)
    return {
        "legal_name": args.legal_name,
        "address": address,
        "country": args.country,
        "tax_id": args.tax_id,
        "billing_email": args.email,
    }


def _add(args: argparse.Namespace) -> int:
    with open_sessions(args).begin() as session:
        result = accounts.account_json(
            accounts.add_account(session, args.name, _profile(args), now_ms())
        )
    print_data(result)  # once committed: what is printed is what the store holds
    return 0


def _list(args: argparse.Namespace) -> int:
    with open_sessions(args)() as session:
        rows = [accounts.account_json(a) for a in session.scalars(select(Account).order_by("id"))]
    if args.format != "json":
        rows = [{**row, "address": " / ".join(row["address"])} for row in rows]
    print_data(
        rows, args.format, ("name", "legal_name", "tax_id", "billing_email", "address", "country")
    )
    return 0


def _set_profile(args: argparse.Namespace) -> int:
    with open_sessions(args).begin() as session:
        result = accounts.account_json(accounts.set_profile(session, args.name, _profile(args)))
    print_data(result)
    return 0


def _move(args: argparse.Namespace) -> int:
    with open_sessions(args).begin() as session:
        result = accounts.move(session, OPERATOR, args.app, args.to, now_ms())
    print_data(result)
    return 0


def _hook_add(args: argparse.Namespace) -> int:
    with open_sessions(args).begin() as session:
        account = accounts.account_named(session, args.account)
        result = endpoints.add(session, account.id, args.url, now_ms())
    print_data(result)  # the secret is printed only once it is stored
    return 0


def _hook_list(args: argparse.Namespace) -> int:
    with open_sessions(args)() as session:
        account = None if args.account is None else accounts.account_named(session, args.account)
        rows = endpoints.listing(session, None if account is None else account.id)
    print_data(rows, args.format, ("id", "account_id", "url", "old_secret_signs_until"))
    return 0


def _hook_rotate(args: argparse.Namespace) -> int:
    with open_sessions(args).begin() as session:
        result = endpoints.rotate(session, args.id, args.overlap_hours, now_ms())
    print_data(result)
    return 0


def _hook_remove(args: argparse.Namespace) -> int:
    with open_sessions(args).begin() as session:
        result = endpoints.remove(session, args.id, now_ms())
    print_data(result)
    return 0
