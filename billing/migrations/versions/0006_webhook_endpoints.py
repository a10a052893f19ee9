"""Webhook endpoints of an account (several per account, each with its own signing secret;
a rotated secret keeps signing beside the new one until its overlap ends), and their outbox:
one row per notification and endpoint of the notification's account.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ms = sa.BigInteger


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("secret", sa.String(200), nullable=False),
        sa.Column("previous_secret", sa.String(200)),
        sa.Column("previous_until_ms", ms),
        sa.Column("created_ms", ms, nullable=False),
        sa.Column("removed_ms", ms),
    )
    op.create_table(
        "endpoint_deliveries",
        sa.Column(
            "notification_id", sa.Integer, sa.ForeignKey("notifications.id"), primary_key=True
        ),
        sa.Column(
            "endpoint_id", sa.Integer, sa.ForeignKey("webhook_endpoints.id"), primary_key=True
        ),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_ms", ms, nullable=False, index=True),
        sa.Column("delivered_ms", ms),
        sa.Column("last_error", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("endpoint_deliveries")
    op.drop_table("webhook_endpoints")
