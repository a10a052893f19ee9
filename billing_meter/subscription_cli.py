"""``billing-meter subscribe``, ``funds``, ``owner``, ``plan`` and ``extension``."""

from __future__ import annotations

import argparse

from billing import operations
from billing.access import OPERATOR
from billing_meter.cli_support import (
    now_ms,
    open_sessions,
    print_data,
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
