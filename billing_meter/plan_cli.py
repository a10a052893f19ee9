"""``billing-meter plans``, ``users`` and ``db``."""

from __future__ import annotations

import argparse

from billing import db, operations
from billing.access import OPERATOR
from billing.catalog import PlanSpec, parse_meters
from billing_meter.cli_support import (
    now_ms,
    open_sessions,
    print_data,
)


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


def _users_add(args: argparse.Namespace) -> int:
    print_data(operations.add_user(open_sessions(args), OPERATOR, args.name, args.role, now_ms()))
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    db.upgrade(db.create(args.db))
    where = db.redacted(args.db or db.default_url())
    print(f"the money store at {where} is at the newest schema")
    return 0
