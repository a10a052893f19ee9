"""``billing-meter plans`` and ``db``."""

from __future__ import annotations

import argparse
import os

from billing import db, operations, roles
from billing.access import OPERATOR
from billing.catalog import PlanSpec, parse_meters
from billing_meter.cli_support import (
    Registrar,
    add_format,
    now_ms,
    open_sessions,
    print_data,
    whole_days,
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


def add_plan_commands(r: Registrar) -> None:
    """``plans add|list``, ``db upgrade``."""
    plans = r.group("plans", "billing plans (BILLING-SPEC §2)")
    add = r.command(plans, "add", _plans_add, "add a plan, or a new version of one")
    add.add_argument("code")
    add.add_argument("--name", required=True)
    add.add_argument("--currency", required=True, help="ISO 4217, e.g. USD")
    add.add_argument("--fee", required=True, help="monthly fee, e.g. 49.00")
    add.add_argument("--included", default="", help="billing_sessions=1000,agents=2,...")
    add.add_argument("--price", default="", help="billing_sessions=0.05,agents=15,...")
    add.add_argument("--kind", choices=("prepaid", "enterprise"), default="prepaid")
    add.add_argument("--term-days", type=whole_days, default=None)
    add_format(
        r.command(plans, "list", _plans_list, "list plans and their versions"), "table", "json"
    )
    store = r.group("db", "the money store")
    upgrade = r.command(store, "upgrade", _db_upgrade, "apply the store's migrations")
    upgrade.add_argument(
        "--url", default=None, help="the owner role's URL (default BILLING_DB_MIGRATE_URL, --db)"
    )
    upgrade.add_argument(
        "--grant-to", default=None, help="the application role (default BILLING_DB_APP_ROLE)"
    )
