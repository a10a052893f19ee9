"""Accounts (workspaces): their billing profile, their users' roles (memberships), the apps
placed in them; platform operators above them. An existing store moves into one account,
``default``: every user becomes a member of it with the role they had, every subscribed app
is placed in it. ``users.operator`` marks platform operators; for everyone else the role that
counts is their membership's, in the account they act in (``users.role`` keeps the role the
user was created with).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ms = sa.BigInteger


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("legal_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("address", sa.Text, nullable=False, server_default=""),
        sa.Column("tax_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("billing_email", sa.String(254), nullable=False, server_default=""),
        sa.Column("created_ms", ms, nullable=False),
    )
    op.create_table(
        "memberships",
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.CheckConstraint("role IN ('admin', 'owner', 'member')", name="memberships_role"),
    )
    op.create_table(
        "app_accounts",
        sa.Column("app_id", sa.String(256), primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("placed_ms", ms, nullable=False),
    )
    op.add_column("subscriptions", sa.Column("account_id", sa.Integer, nullable=True))
    op.add_column("web_sessions", sa.Column("account_id", sa.Integer, nullable=True))
    now = int(time.time() * 1000)
    op.execute(f"INSERT INTO accounts (name, created_ms) VALUES ('default', {now})")
    default = "(SELECT id FROM accounts WHERE name = 'default')"
    op.execute(
        f"INSERT INTO memberships (account_id, user_id, role) SELECT {default}, id, role FROM users"
    )
    op.execute(
        f"INSERT INTO app_accounts (app_id, account_id, placed_ms) "
        f"SELECT app_id, {default}, {now} FROM subscriptions"
    )
    op.execute(f"UPDATE subscriptions SET account_id = {default}")
    op.add_column(
        "users",
        sa.Column("operator", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("users", "operator")
    op.drop_column("web_sessions", "account_id")
    op.drop_column("subscriptions", "account_id")
    op.drop_table("app_accounts")
    op.drop_table("memberships")
    op.drop_table("accounts")
