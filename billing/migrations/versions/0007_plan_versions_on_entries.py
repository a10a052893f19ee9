"""Issue #23: each ledger entry records the plan version that charged it (new entries only:
existing rows stay as they are and invoices derive theirs, see ``billing.charged``); each
plan version may list the plan codes a bot on it may move to; accounts get a country for
their "Bill to".

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Adding a nullable column rewrites no row, so the ledger's append-only triggers are
    # neither fired nor lifted. SQLite cannot add a foreign key without copying the table
    # (which would rewrite the ledger), so there the reference is the application's.
    sqlite = op.get_bind().dialect.name == "sqlite"
    refers = () if sqlite else (sa.ForeignKey("plans.id"),)
    op.add_column("ledger_entries", sa.Column("plan_id", sa.Integer, *refers, nullable=True))
    op.add_column("plans", sa.Column("changes_to", sa.Text, nullable=True))
    op.add_column(
        "accounts", sa.Column("country", sa.String(64), nullable=False, server_default="")
    )


def downgrade() -> None:
    op.drop_column("accounts", "country")
    op.drop_column("plans", "changes_to")
    op.drop_column("ledger_entries", "plan_id")
