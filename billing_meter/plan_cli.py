"""``billing-meter plans`` and ``db``."""

from __future__ import annotations

import argparse
import os

from billing import db, operations, roles
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


def _db_upgrade(args: argparse.Namespace) -> int:
    url = args.url or os.environ.get("BILLING_DB_MIGRATE_URL") or args.db
    engine = db.create(url)
    db.upgrade(engine)
    where = db.redacted(url or db.default_url())
    print(f"the money store at {where} is at the newest schema")
    role = args.grant_to or os.environ.get("BILLING_DB_APP_ROLE")
    if role:
        roles.grant_app_role(engine, role)
        print(f"{role} may read and write its rows (no ALTER, DROP or TRIGGER)")
    return 0
