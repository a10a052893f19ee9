"""``billing-meter plans`` and ``db``."""

from __future__ import annotations

import argparse
import os

from billing import db, operations, plan_operations, roles
from billing.access import OPERATOR
from billing.catalog import PlanSpec, Revision, parse_meters
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
        changes_to=args.changes_to,
    )
    print_data(operations.add_plan(open_sessions(args), OPERATOR, spec, now_ms()))
    return 0


def _plans_revise(args: argparse.Namespace) -> int:
    revision = Revision(
        name=args.name,
        fee=args.fee,
        included=parse_meters(args.included, "--included"),
        prices=parse_meters(args.price, "--price"),
        changes_to=args.changes_to,
    )
    new = plan_operations.revise_plan(open_sessions(args), OPERATOR, args.code, revision, now_ms())
    print(f"{new['code']}: version {new['version'] - 1} -> {new['version']}")
    for change in new["changes"]:
        print(f"  {change['field']}: {_shown(change['from'])} -> {_shown(change['to'])}")
    return 0


def _shown(value: object) -> str:
    if value is None:
        return "any"
    return ",".join(value) if isinstance(value, list) else str(value)


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
        "changes_to",
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
