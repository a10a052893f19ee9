"""The running balance: ``subscriptions.balance_minor`` is the sum of the subscription's
ledger entries, kept by the database in the transaction of each insert (a trigger on
``ledger_entries``), so a balance is read in O(1) instead of summing the whole ledger.
``balance_entry_id`` names the newest entry folded in. A guard trigger refuses any other
change of the two columns, on SQLite and PostgreSQL alike. ``pending_usage_minor`` is a
cache, not money: the usage charges accrued since the last posted usage entry (refreshed by
every posting pass), so the live balance is ``balance_minor - pending_usage_minor``.

Existing ledgers are summed once here; no ledger row is rewritten.

Revision ID: 0009
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None

GUARD_MESSAGE = "the running balance changes only with a ledger entry"


def upgrade() -> None:
    op.add_column(
        "subscriptions",
        sa.Column("balance_minor", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.add_column(
        "subscriptions",
        sa.Column("balance_entry_id", sa.Integer, nullable=False, server_default="0"),
    )
    op.add_column(
        "subscriptions",
        sa.Column("pending_usage_minor", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.execute(
        "UPDATE subscriptions SET "
        "balance_minor = COALESCE((SELECT SUM(e.amount_minor) FROM ledger_entries e "
        "WHERE e.subscription_id = subscriptions.id), 0), "
        "balance_entry_id = COALESCE((SELECT MAX(e.id) FROM ledger_entries e "
        "WHERE e.subscription_id = subscriptions.id), 0)"
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgres_triggers()
    else:
        _sqlite_triggers()


def _postgres_triggers() -> None:
    """The fold adds each new entry; the guard lets only the fold (a nested trigger,
    ``pg_trigger_depth() > 1``) change the balance. GREATEST: two transactions may commit
    their entries in the other order than their ids were drawn."""
    op.execute(
        "CREATE FUNCTION ledger_entries_fold() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "UPDATE subscriptions SET balance_minor = balance_minor + NEW.amount_minor, "
        "balance_entry_id = GREATEST(balance_entry_id, NEW.id) "
        "WHERE id = NEW.subscription_id; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER ledger_entries_fold AFTER INSERT ON ledger_entries "
        "FOR EACH ROW EXECUTE FUNCTION ledger_entries_fold()"
    )
    op.execute(
        "CREATE FUNCTION subscriptions_balance_guard() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN IF pg_trigger_depth() < 2 AND (TG_OP = 'INSERT' AND (NEW.balance_minor <> 0 "
        "OR NEW.balance_entry_id <> 0) OR TG_OP = 'UPDATE' AND "
        "(NEW.balance_minor IS DISTINCT FROM OLD.balance_minor "
        "OR NEW.balance_entry_id IS DISTINCT FROM OLD.balance_entry_id)) THEN "
        f"RAISE EXCEPTION '{GUARD_MESSAGE}' USING ERRCODE = 'integrity_constraint_violation'; "
        "END IF; RETURN NEW; END $$"
    )
    op.execute(
        "CREATE TRIGGER subscriptions_balance_guard BEFORE INSERT OR UPDATE ON subscriptions "
        "FOR EACH ROW EXECUTE FUNCTION subscriptions_balance_guard()"
    )


def _sqlite_triggers() -> None:
    """SQLite has no trigger depth; writers are serialized and ids only grow, so the guard
    admits exactly the fold: a newer entry of this subscription, its amount added."""
    op.execute(
        "CREATE TRIGGER ledger_entries_fold AFTER INSERT ON ledger_entries BEGIN "
        "UPDATE subscriptions SET balance_minor = balance_minor + NEW.amount_minor, "
        "balance_entry_id = NEW.id WHERE id = NEW.subscription_id; END"
    )
    op.execute(
        "CREATE TRIGGER subscriptions_balance_guard BEFORE UPDATE OF balance_minor, "
        "balance_entry_id ON subscriptions BEGIN "
        f"SELECT RAISE(ABORT, '{GUARD_MESSAGE}') WHERE NOT COALESCE("
        "(NEW.balance_minor IS OLD.balance_minor AND NEW.balance_entry_id IS OLD.balance_entry_id)"
        " OR (NEW.balance_entry_id > OLD.balance_entry_id AND NEW.balance_minor - "
        "OLD.balance_minor = (SELECT e.amount_minor FROM ledger_entries e "
        "WHERE e.id = NEW.balance_entry_id AND e.subscription_id = NEW.id)), 0); END"
    )
    op.execute(
        "CREATE TRIGGER subscriptions_balance_starts_at_zero BEFORE INSERT ON subscriptions "
        "WHEN NEW.balance_minor <> 0 OR NEW.balance_entry_id <> 0 BEGIN "
        f"SELECT RAISE(ABORT, '{GUARD_MESSAGE}'); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER subscriptions_balance_guard ON subscriptions")
        op.execute("DROP FUNCTION subscriptions_balance_guard()")
        op.execute("DROP TRIGGER ledger_entries_fold ON ledger_entries")
        op.execute("DROP FUNCTION ledger_entries_fold()")
    else:
        op.execute("DROP TRIGGER subscriptions_balance_starts_at_zero")
        op.execute("DROP TRIGGER subscriptions_balance_guard")
        op.execute("DROP TRIGGER ledger_entries_fold")
    for column in ("pending_usage_minor", "balance_entry_id", "balance_minor"):
        op.drop_column("subscriptions", column)
