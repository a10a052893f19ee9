"""The parsers of the users, accounts, apps and webhooks commands (issue #22).

Handlers are named ``"module:function"`` so that building these parsers imports none of them.
"""

from __future__ import annotations

import argparse

from billing_meter.cli_args import Registrar, add_format, row_id, whole_days


def add_user_commands(r: Registrar) -> None:
    """``users add|list|revoke|remove|rotate-key``."""
    users = r.group("users", "users and API keys")
    user = r.command(users, "add", "user_cli:_add", "add a user; prints its API key once")
    user.add_argument("name")
    user.add_argument("--role", choices=("operator", "admin", "owner", "member"), required=True)
    user.add_argument("--account", metavar="NAME", help="the account (default: default)")
    user.add_argument("--expires-days", type=whole_days, default=None, help="the key's lifetime")
    listing = r.command(users, "list", "user_cli:_list", "users and the state of their keys")
    add_format(listing, "table", "json", "csv")
    revoke = r.command(users, "revoke", "user_cli:_revoke", "the key stops working; sessions end")
    revoke.add_argument("name")
    remove = r.command(users, "remove", "user_cli:_remove", "the user, key and sessions are gone")
    remove.add_argument("name")
    rotate = r.command(
        users, "rotate-key", "user_cli:_rotate", "a new key (printed once); the old one ends"
    )
    rotate.add_argument("name")
    rotate.add_argument("--expires-days", type=whole_days, default=None)


def _profile_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name")
    parser.add_argument("--legal-name")
    parser.add_argument("--address", action="append", help="one line (repeat for each line)")
    parser.add_argument("--country")
    parser.add_argument("--tax-id", help="the VAT or tax id printed on invoices")
    parser.add_argument("--email", help="the billing e-mail address")


def add_account_commands(r: Registrar) -> None:
    """``accounts add|list|profile``, ``apps move``."""
    group = r.group("accounts", "accounts (workspaces) and their billing profile")
    _profile_options(r.command(group, "add", "account_cli:_add", "add an account"))
    listing = r.command(group, "list", "account_cli:_list", "every account")
    add_format(listing, "table", "json", "csv")
    profile = r.command(group, "profile", "account_cli:_set_profile", "change a billing profile")
    _profile_options(profile)
    apps = r.group("apps", "apps and their accounts")
    move = r.command(apps, "move", "account_cli:_move", "move an app (and its subscription)")
    move.add_argument("app")
    move.add_argument("--to", required=True, metavar="ACCOUNT")


def add_webhook_commands(r: Registrar) -> None:
    """``webhooks add|list|rotate|remove``: an account's endpoints."""
    hooks = r.group("webhooks", "accounts' webhook endpoints (signed per Standard Webhooks)")
    add = r.command(hooks, "add", "account_cli:_hook_add", "add an endpoint; prints its secret")
    add.add_argument("account")
    add.add_argument("url")
    listing = r.command(hooks, "list", "account_cli:_hook_list", "live endpoints (no secrets)")
    listing.add_argument("--account")
    add_format(listing, "table", "json")
    rotate = r.command(hooks, "rotate", "account_cli:_hook_rotate", "a new secret, with overlap")
    rotate.add_argument("id", type=row_id)
    rotate.add_argument("--overlap-hours", type=int, default=24)
    remove = r.command(hooks, "remove", "account_cli:_hook_remove", "it gets nothing more")
    remove.add_argument("id", type=row_id)
