"""Keys that expire and can be revoked; console sessions bound to the credential that opened
them (a rotated key or a changed ``BILLING_API_TOKEN`` ends them). Sessions opened before
this revision have no credential recorded, so they end: their users sign in again.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("key_expires_ms", sa.BigInteger))
    op.add_column("users", sa.Column("revoked_ms", sa.BigInteger))
    op.add_column("web_sessions", sa.Column("credential_hash", sa.String(64)))
    op.execute("DELETE FROM web_sessions")


def downgrade() -> None:
    with op.batch_alter_table("web_sessions") as table:
        table.drop_column("credential_hash")
    with op.batch_alter_table("users") as table:
        table.drop_column("revoked_ms")
        table.drop_column("key_expires_ms")
