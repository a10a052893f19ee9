"""Invoices (drafts, finalized with gapless numbers, immutable), their lines, which ledger
entries each billed, and browser sessions of the Billing console.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ms = sa.BigInteger
FINAL = "finalized invoices are immutable"


def upgrade() -> None:
    op.create_table(
        "invoices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subscription_id", sa.Integer, sa.ForeignKey("subscriptions.id"), nullable=False),
        sa.Column("app_id", sa.String(256), nullable=False, index=True),
        sa.Column("period_start_ms", ms, nullable=False),
        sa.Column("period_end_ms", ms, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("number", sa.String(32), unique=True),
        sa.Column("total_minor", ms),
        sa.Column("finalized_ms", ms),
        sa.Column("pdf", sa.LargeBinary),
        sa.Column("pdf_sha256", sa.String(64)),
        sa.Column("created_ms", ms, nullable=False),
        sa.UniqueConstraint("subscription_id", "period_start_ms"),
        sa.CheckConstraint("status IN ('draft', 'finalized')", name="invoices_status"),
        sa.CheckConstraint(
            "status = 'draft' OR (number IS NOT NULL AND total_minor IS NOT NULL "
            "AND pdf IS NOT NULL AND pdf_sha256 IS NOT NULL)",
            name="invoices_final_complete",
        ),
    )
    op.create_table(
        "invoice_lines",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "invoice_id", sa.Integer, sa.ForeignKey("invoices.id"), nullable=False, index=True
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("meter", sa.String(32)),
        sa.Column("period_start_ms", ms),
        sa.Column("quantity", ms),
        sa.Column("included", ms),
        sa.Column("overage", ms),
        sa.Column("unit_price_micros", ms),
        sa.Column("amount_minor", ms, nullable=False),
    )
    op.create_table(
        "invoiced_entries",
        sa.Column(
            "ledger_entry_id", sa.Integer, sa.ForeignKey("ledger_entries.id"), primary_key=True
        ),
        sa.Column(
            "invoice_id", sa.Integer, sa.ForeignKey("invoices.id"), nullable=False, index=True
        ),
    )
    op.create_table(
        "invoice_counters",
        sa.Column("account", sa.String(64), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("last", sa.Integer, nullable=False),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_ms", ms, nullable=False),
        sa.Column("expires_ms", ms, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgres_triggers()
    else:
        _sqlite_triggers()


def _sqlite_triggers() -> None:
    refuse = f"BEGIN SELECT RAISE(ABORT, '{FINAL}'); END"
    final = "(SELECT status FROM invoices WHERE id = {row}.invoice_id) = 'finalized'"
    statements = [
        f"CREATE TRIGGER invoices_final_update BEFORE UPDATE ON invoices "
        f"WHEN OLD.status = 'finalized' {refuse}",
        f"CREATE TRIGGER invoices_final_delete BEFORE DELETE ON invoices "
        f"WHEN OLD.status = 'finalized' {refuse}",
        f"CREATE TRIGGER invoice_lines_insert BEFORE INSERT ON invoice_lines "
        f"WHEN {final.format(row='NEW')} {refuse}",
        f"CREATE TRIGGER invoice_lines_update BEFORE UPDATE ON invoice_lines {refuse}",
        f"CREATE TRIGGER invoice_lines_delete BEFORE DELETE ON invoice_lines "
        f"WHEN {final.format(row='OLD')} {refuse}",
        f"CREATE TRIGGER invoiced_entries_update BEFORE UPDATE ON invoiced_entries {refuse}",
        f"CREATE TRIGGER invoiced_entries_delete BEFORE DELETE ON invoiced_entries {refuse}",
    ]
    for statement in statements:
        op.execute(statement)


def _postgres_triggers() -> None:
    op.execute(
        "CREATE FUNCTION invoices_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF TG_OP = 'INSERT' THEN NULL; ELSIF OLD.status = 'finalized' THEN "
        f"RAISE EXCEPTION '{FINAL}' USING ERRCODE = 'integrity_constraint_violation'; END IF; "
        "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$"
    )
    op.execute(
        "CREATE TRIGGER invoices_final BEFORE UPDATE OR DELETE ON invoices "
        "FOR EACH ROW EXECUTE FUNCTION invoices_refuse()"
    )
    op.execute(
        "CREATE FUNCTION invoice_lines_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "DECLARE parent integer; BEGIN "
        "IF TG_OP = 'UPDATE' THEN RAISE EXCEPTION '" + FINAL + "' "
        "USING ERRCODE = 'integrity_constraint_violation'; END IF; "
        "IF TG_OP = 'INSERT' THEN parent := NEW.invoice_id; ELSE parent := OLD.invoice_id; END IF; "
        "IF (SELECT status FROM invoices WHERE id = parent) = 'finalized' THEN "
        f"RAISE EXCEPTION '{FINAL}' USING ERRCODE = 'integrity_constraint_violation'; END IF; "
        "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$"
    )
    op.execute(
        "CREATE TRIGGER invoice_lines_final BEFORE INSERT OR UPDATE OR DELETE ON invoice_lines "
        "FOR EACH ROW EXECUTE FUNCTION invoice_lines_refuse()"
    )
    op.execute(
        "CREATE FUNCTION invoiced_entries_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"RAISE EXCEPTION '{FINAL}' USING ERRCODE = 'integrity_constraint_violation'; END $$"
    )
    op.execute(
        "CREATE TRIGGER invoiced_entries_final BEFORE UPDATE OR DELETE OR TRUNCATE ON "
        "invoiced_entries FOR EACH STATEMENT EXECUTE FUNCTION invoiced_entries_refuse()"
    )
    op.execute(
        "CREATE TRIGGER invoices_no_truncate BEFORE TRUNCATE ON invoices "
        "FOR EACH STATEMENT EXECUTE FUNCTION invoiced_entries_refuse()"
    )
