"""``billing-meter users``: add, list, revoke, rotate-key (the operator's CLI)."""

from __future__ import annotations

import argparse

from billing import keys, operations
from billing.access import OPERATOR
from billing.errors import InvalidError
from billing_meter.cli_support import now_ms, open_sessions, print_data

MAX_KEY_DAYS = 3650


def _expires(args: argparse.Namespace, now: int) -> int | None:
    days: int | None = args.expires_days
    if days is None:
        return None
    if not 1 <= days <= MAX_KEY_DAYS:
        raise InvalidError(f"--expires-days is 1-{MAX_KEY_DAYS}, got {days}")
    return now + days * keys.DAY_MS


def _add(args: argparse.Namespace) -> int:
    now = now_ms()
    sessions = open_sessions(args)
    expires = _expires(args, now)
    print_data(
        operations.add_user(
            sessions, OPERATOR, args.name, args.role, now, expires_ms=expires, account=args.account
        )
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    with open_sessions(args)() as session:
        rows = keys.list_users(session, now_ms())
    print_data(rows, args.format, ("name", "role", "key", "key_expires", "console_sessions"))
    return 0


# Each change is committed before it is printed: what the operator reads (a revoked key,
# a new key) is what the store holds, even if printing fails (a closed pipe).


def _revoke(args: argparse.Namespace) -> int:
    with open_sessions(args).begin() as session:
        result = keys.revoke(session, args.name, now_ms())
    print_data(result)
    return 0


def _remove(args: argparse.Namespace) -> int:
    with open_sessions(args).begin() as session:
        result = keys.remove_user(session, args.name)
    print_data(result)
    return 0


def _rotate(args: argparse.Namespace) -> int:
    now = now_ms()
    expires = _expires(args, now)
    with open_sessions(args).begin() as session:
        result = keys.rotate(session, args.name, expires)
    print_data(result)
    return 0
