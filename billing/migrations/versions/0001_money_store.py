"""The money store: users, plans, subscriptions, the append-only ledger, orders, notifications.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ms = sa.BigInteger


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_ms", ms, nullable=False),
        sa.CheckConstraint("role IN ('admin', 'owner', 'member')", name="users_role"),
    )
    meters = ("billing_sessions", "voice_sessions", "agents")
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("fee_minor", ms, nullable=False),
        sa.Column("term_days", sa.Integer),
        *(sa.Column(f"included_{m}", ms, nullable=False) for m in meters),
        *(sa.Column(f"price_{m}", ms, nullable=False) for m in meters),
        sa.Column("created_ms", ms, nullable=False),
        sa.UniqueConstraint("code", "version"),
        sa.CheckConstraint("kind IN ('prepaid', 'enterprise')", name="plans_kind"),
        sa.CheckConstraint("fee_minor >= 0", name="plans_fee"),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("app_id", sa.String(256), nullable=False, unique=True),
        sa.Column("plan_id", sa.Integer, sa.ForeignKey("plans.id"), nullable=False),
        sa.Column("owner_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("start_ms", ms, nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("low_balance_minor", ms),
        sa.Column("ends_at_ms", ms),
        sa.Column("pending_plan_id", sa.Integer, sa.ForeignKey("plans.id")),
        sa.Column("balance_state", sa.String(16), nullable=False),
        sa.Column("created_ms", ms, nullable=False),
    )
    _period_tables()
    _orders()
    _ledger()
    _notifications()


def _period_tables() -> None:
    op.create_table(
        "period_plans",
        sa.Column(
            "subscription_id", sa.Integer, sa.ForeignKey("subscriptions.id"), primary_key=True
        ),
        sa.Column("period_start_ms", ms, primary_key=True),
        sa.Column("period_end_ms", ms, nullable=False),
        sa.Column("plan_id", sa.Integer, sa.ForeignKey("plans.id"), nullable=False),
    )
    op.create_table(
        "period_usage",
        sa.Column(
            "subscription_id", sa.Integer, sa.ForeignKey("subscriptions.id"), primary_key=True
        ),
        sa.Column("period_start_ms", ms, primary_key=True),
        sa.Column("billing_sessions", ms, nullable=False),
        sa.Column("voice_sessions", ms, nullable=False),
        sa.Column("agents", ms, nullable=False),
        sa.Column("updated_ms", ms, nullable=False),
    )


def _ledger() -> None:
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subscription_id", sa.Integer, sa.ForeignKey("subscriptions.id"), nullable=False),
        sa.Column("app_id", sa.String(256), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount_minor", ms, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("period_start_ms", ms),
        sa.Column("meter", sa.String(32)),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id")),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("idempotency_key", sa.String(300), nullable=False, unique=True),
        sa.Column("created_ms", ms, nullable=False),
        sa.CheckConstraint(
            "kind IN ('fee', 'usage', 'topup', 'proration', 'adjustment')", name="ledger_kind"
        ),
    )
    op.create_index(
        "ledger_by_period", "ledger_entries", ["subscription_id", "period_start_ms", "kind"]
    )
    _refuse_changes("ledger_entries", "ledger entries are append-only")


def _orders() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subscription_id", sa.Integer, sa.ForeignKey("subscriptions.id"), nullable=False),
        sa.Column("app_id", sa.String(256), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("amount_minor", ms),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("requested_by", sa.String(128), nullable=False),
        sa.Column("created_ms", ms, nullable=False),
        sa.Column("updated_ms", ms, nullable=False),
    )
    op.create_table(
        "extensions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subscription_id", sa.Integer, sa.ForeignKey("subscriptions.id"), nullable=False),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=False),
        sa.Column("days", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(128), nullable=False),
        sa.Column("decided_by", sa.String(128)),
        sa.Column("created_ms", ms, nullable=False),
        sa.Column("decided_ms", ms),
        sa.CheckConstraint("days BETWEEN 1 AND 90", name="extensions_days"),
    )
    op.create_table(
        "owner_changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subscription_id", sa.Integer, sa.ForeignKey("subscriptions.id"), nullable=False),
        sa.Column("from_user", sa.String(128), nullable=False),
        sa.Column("to_user", sa.String(128), nullable=False),
        sa.Column("changed_by", sa.String(128), nullable=False),
        sa.Column("changed_ms", ms, nullable=False),
    )
    _refuse_changes("owner_changes", "the owner audit trail is append-only")


def _notifications() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(300), nullable=False, unique=True),
        sa.Column("app_id", sa.String(256), nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_ms", ms, nullable=False),
        sa.Column("published_ms", ms, index=True),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column(
            "notification_id", sa.Integer, sa.ForeignKey("notifications.id"), primary_key=True
        ),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_ms", ms, nullable=False, index=True),
        sa.Column("delivered_ms", ms),
        sa.Column("last_error", sa.Text),
    )


def _refuse_changes(table: str, message: str) -> None:
    """Triggers that make ``table`` append-only: UPDATE and DELETE fail, in both databases."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION {table}_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{message}' USING ERRCODE = 'integrity_constraint_violation'; "
            "END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_refuse()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_refuse()"
        )
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )
