"""The parsers of the billing commands (plans, subscriptions, ledger, invoices).

Handlers are named ``"module:function"`` so that building these parsers imports none of them.
"""

from __future__ import annotations

from billing_meter.cli_args import Registrar, add_format, row_id, whole_days

CHANGES_TO = "plans a bot on it may move to, a,b (default: every plan of its kind and currency)"


def add_plan_commands(r: Registrar) -> None:
    """``plans add|revise|list``, ``db upgrade``."""
    plans = r.group("plans", "billing plans (BILLING-SPEC §2)")
    add = r.command(plans, "add", "plan_cli:_plans_add", "add a plan (revise changes one)")
    add.add_argument("code")
    add.add_argument("--name", required=True)
    add.add_argument("--currency", required=True, help="ISO 4217, e.g. USD")
    add.add_argument("--fee", required=True, help="monthly fee, e.g. 49.00")
    add.add_argument("--included", default="", help="billing_sessions=1000,agents=2,...")
    add.add_argument("--price", default="", help="billing_sessions=0.05,agents=15,...")
    add.add_argument("--kind", choices=("prepaid", "enterprise"), default="prepaid")
    add.add_argument("--term-days", type=whole_days, default=None)
    add.add_argument("--changes-to", metavar="CODES", help=CHANGES_TO)
    revise = r.command(
        plans, "revise", "plan_cli:_plans_revise", "a new version: what is given changes"
    )
    revise.add_argument("code")
    revise.add_argument("--name")
    revise.add_argument("--fee", help="monthly fee, e.g. 59.00")
    revise.add_argument("--included", default="", help="billing_sessions=2000,... (others kept)")
    revise.add_argument("--price", default="", help="billing_sessions=0.04,... (others kept)")
    revise.add_argument("--changes-to", metavar="CODES", help=CHANGES_TO + "; 'any' clears it")
    add_format(
        r.command(plans, "list", "plan_cli:_plans_list", "list plans and their versions"),
        "table",
        "json",
    )
    store = r.group("db", "the money store")
    upgrade = r.command(store, "upgrade", "plan_cli:_db_upgrade", "apply the store's migrations")
    upgrade.add_argument(
        "--url", default=None, help="the owner role's URL (default BILLING_DB_MIGRATE_URL, --db)"
    )
    upgrade.add_argument(
        "--grant-to", default=None, help="the application role (default BILLING_DB_APP_ROLE)"
    )


def add_subscription_commands(r: Registrar) -> None:
    """``subscribe``, ``funds add``, ``owner change``."""
    sub = r.command(
        r.commands, "subscribe", "subscription_cli:_subscribe", "subscribe an app (bot) to a plan"
    )
    sub.add_argument("app")
    sub.add_argument("--plan", required=True)
    sub.add_argument("--owner", required=True, help="a user (users add)")
    sub.add_argument("--start", metavar="YYYY-MM-DD", help="first day, in --tz (default today)")
    sub.add_argument("--tz", default="UTC", help="IANA zone of the periods (default UTC)")
    sub.add_argument("--low-balance", metavar="AMOUNT", help="default 20%% of the monthly fee")
    sub.add_argument("--account", metavar="NAME", help="the app's account (default: default)")
    funds = r.group("funds", "prepaid balances")
    top = r.command(funds, "add", "subscription_cli:_funds_add", "add funds to an app's balance")
    top.add_argument("app")
    top.add_argument("amount", help="decimal, e.g. 100.00")
    top.add_argument("--idempotency-key", metavar="KEY")
    owner = r.group("owner", "bot owners")
    own = r.command(owner, "change", "subscription_cli:_owner_change", "give a bot a new owner")
    own.add_argument("app")
    own.add_argument("--to", required=True, metavar="USER")


def add_change_commands(r: Registrar) -> None:
    """``plan change|cancel-change``, ``extension request|approve|reject``."""
    plan = r.group("plan", "plan changes")
    change = r.command(
        plan, "change", "subscription_cli:_plan_change", "upgrade now or schedule a downgrade"
    )
    change.add_argument("app")
    change.add_argument("--to", required=True, metavar="CODE")
    cancel = r.command(
        plan, "cancel-change", "subscription_cli:_plan_cancel", "cancel a scheduled downgrade"
    )
    cancel.add_argument("app")
    ext = r.group("extension", "term plan extensions")
    req = r.command(
        ext, "request", "subscription_cli:_extension_request", "ask for more days of a term plan"
    )
    req.add_argument("app")
    req.add_argument("--days", type=whole_days, required=True)
    req.add_argument("--reason", default="")
    for decision in ("approve", "reject"):
        decide = r.command(
            ext, decision, "subscription_cli:_extension_decide", f"{decision} an extension request"
        )
        decide.add_argument("id", type=row_id)
        decide.set_defaults(decision=decision)


def add_ledger_commands(r: Registrar) -> None:
    """``balance``, ``ledger``, ``ledger post``, ``notifications``."""
    bal = r.command(
        r.commands, "balance", "ledger_cli:_balance", "balances, status and current usage"
    )
    bal.add_argument("--app")
    add_format(bal, "table", "json")
    led = r.command(r.commands, "ledger", "ledger_cli:_ledger", "ledger entries (and: ledger post)")
    led.add_argument("--app")
    add_format(led, "table", "json", "csv")
    post = r.command(
        led.add_subparsers(dest="ledger_command", parser_class=type(led)),
        "post",
        "ledger_cli:_ledger_post",
        "post usage charges from ClickHouse once (for cron)",
    )
    post.add_argument("--clickhouse", metavar="URL", help="default $CLICKHOUSE_URL or chdb")
    notes = r.command(
        r.commands, "notifications", "ledger_cli:_notifications", "stored notifications"
    )
    notes.add_argument("--app")
    add_format(notes, "table", "json")


def add_invoice_commands(r: Registrar) -> None:
    """``invoices list|show|finalize`` and ``orders list|receipt``."""
    invoices = r.group("invoices", "invoices (drafts and finalized, PDFs)")
    listing = r.command(invoices, "list", "invoice_cli:_list", "invoices, newest first")
    listing.add_argument("--app")
    listing.add_argument("--format", choices=("table", "json"), default="table")
    show = r.command(
        invoices, "show", "invoice_cli:_show", "one finalized invoice, as JSON or its PDF"
    )
    show.add_argument("number", help="INV-YYYY-NNNNNN")
    show.add_argument("--format", choices=("json", "pdf"), default="json")
    show.add_argument("--output", metavar="FILE", help="write to FILE (default: stdout)")
    final = r.command(
        invoices, "finalize", "invoice_cli:_finalize", "finalize the drafts that are due (cron)"
    )
    final.add_argument("--clickhouse", metavar="URL", help="default $CLICKHOUSE_URL or chdb")
    orders = r.group("orders", "orders: top-ups, plan changes, extensions")
    olist = r.command(orders, "list", "invoice_cli:_orders", "orders, newest first")
    olist.add_argument("--app")
    olist.add_argument("--format", choices=("table", "json", "csv"), default="table")
    receipt = r.command(
        orders, "receipt", "invoice_cli:_receipt", "the PDF receipt of a paid top-up"
    )
    receipt.add_argument("id", type=row_id)
    receipt.add_argument("--output", metavar="FILE", help="write to FILE (default: stdout)")
