"""Invoices are the seller's: one gapless sequence a year for the whole deployment. Counters
kept per ``BILLING_ACCOUNT`` become one (``account = 'seller'``) at the highest number any of
them reached, so no number is used twice.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "INSERT INTO invoice_counters (account, year, last) "
        "SELECT 'seller-merged', year, MAX(last) FROM invoice_counters GROUP BY year"
    )
    op.execute("DELETE FROM invoice_counters WHERE account <> 'seller-merged'")
    op.execute("UPDATE invoice_counters SET account = 'seller'")


def downgrade() -> None:
    op.execute("UPDATE invoice_counters SET account = 'default'")
