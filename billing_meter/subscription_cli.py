"""``billing-meter subscribe``, ``funds``, ``owner``, ``plan`` and ``extension``."""

from __future__ import annotations

import argparse

from billing import operations
from billing.access import OPERATOR
from billing_meter.cli_support import (
    Registrar,
    now_ms,
    open_sessions,
    print_data,
    row_id,
    whole_days,
)


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
            account=args.account,
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


def add_subscription_commands(r: Registrar) -> None:
    """``subscribe``, ``funds add``, ``owner change``."""
    sub = r.command(r.commands, "subscribe", _subscribe, "subscribe an app (bot) to a plan")
    sub.add_argument("app")
    sub.add_argument("--plan", required=True)
    sub.add_argument("--owner", required=True, help="a user (users add)")
    sub.add_argument("--start", metavar="YYYY-MM-DD", help="first day, in --tz (default today)")
    sub.add_argument("--tz", default="UTC", help="IANA zone of the periods (default UTC)")
    sub.add_argument("--low-balance", metavar="AMOUNT", help="default 20%% of the monthly fee")
    sub.add_argument("--account", metavar="NAME", help="the app's account (default: default)")
    funds = r.group("funds", "prepaid balances")
    top = r.command(funds, "add", _funds_add, "add funds to an app's balance")
    top.add_argument("app")
    top.add_argument("amount", help="decimal, e.g. 100.00")
    top.add_argument("--idempotency-key", metavar="KEY")
    owner = r.group("owner", "bot owners")
    own = r.command(owner, "change", _owner_change, "give a bot a new owner")
    own.add_argument("app")
    own.add_argument("--to", required=True, metavar="USER")


def add_change_commands(r: Registrar) -> None:
    """``plan change|cancel-change``, ``extension request|approve|reject``."""
    plan = r.group("plan", "plan changes")
    change = r.command(plan, "change", _plan_change, "upgrade now or schedule a downgrade")
    change.add_argument("app")
    change.add_argument("--to", required=True, metavar="CODE")
    cancel = r.command(plan, "cancel-change", _plan_cancel, "cancel a scheduled downgrade")
    cancel.add_argument("app")
    ext = r.group("extension", "term plan extensions")
    req = r.command(ext, "request", _extension_request, "ask for more days of a term plan")
    req.add_argument("app")
    req.add_argument("--days", type=whole_days, required=True)
    req.add_argument("--reason", default="")
    for decision in ("approve", "reject"):
        decide = r.command(ext, decision, _extension_decide, f"{decision} an extension request")
        decide.add_argument("id", type=row_id)
        decide.set_defaults(decision=decision)
