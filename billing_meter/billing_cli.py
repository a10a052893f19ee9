"""The billing commands of ``billing-meter`` (BILLING-SPEC): plans, subscribe, funds,
plan, extension, owner, balance, ledger, notifications, users, db, invoices, orders.

The CLI is the operator's: it acts as an admin. Every command takes ``--db URL``
(default ``$BILLING_DB_URL`` or ``./billing-data/billing.db``) and migrates the store
first. ``BILLING_NOW`` (ISO instant) fixes the clock, for reproducible runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from billing_meter.account_args import (
    add_account_commands,
    add_user_commands,
    add_webhook_commands,
)
from billing_meter.billing_args import (
    add_change_commands,
    add_invoice_commands,
    add_ledger_commands,
    add_plan_commands,
    add_subscription_commands,
)
from billing_meter.cli_args import Handler, Registrar

__all__ = ["Handler", "add_commands"]


def add_commands(commands: Any, wrap: Callable[[Handler], Handler]) -> None:
    """Register the billing commands on the CLI's subparsers."""
    registrar = Registrar(commands, wrap)
    for add in (
        add_plan_commands,
        add_user_commands,
        add_account_commands,
        add_webhook_commands,
        add_subscription_commands,
        add_change_commands,
        add_ledger_commands,
        add_invoice_commands,
    ):
        add(registrar)
