"""The money store on SQLite and PostgreSQL: migrations, and the append-only ledger
enforced by the database itself (not by the ORM)."""

from __future__ import annotations

import threading
from importlib import resources

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from billing import db, finalize
from billing import operations as ops
from billing.access import OPERATOR
from billing.operations import Sessions
from tests.billing.helpers import NOW, seed, snapshot, subscribe

TAMPERING = [
    "UPDATE ledger_entries SET amount_minor = 0",
    "UPDATE ledger_entries SET reason = 'edited' WHERE kind = 'topup'",
    "DELETE FROM ledger_entries",
    "DELETE FROM ledger_entries WHERE kind = 'fee'",
    "UPDATE owner_changes SET changed_by = 'nobody'",
    "DELETE FROM owner_changes",
]


@pytest.mark.parametrize("statement", TAMPERING)
def test_the_database_refuses_to_edit_history(sessions: Sessions, statement: str) -> None:
    seed(sessions)
    subscribe(sessions)
    ops.add_funds(sessions, OPERATOR, "bot-1", amount="100", key=None, now_ms=NOW)
    ops.change_owner(sessions, OPERATOR, "bot-1", "carol", NOW)
    before = (snapshot(sessions), ops.ledger(sessions, OPERATOR, None))
    with pytest.raises(DatabaseError, match="append-only"), sessions.begin() as session:
        session.execute(text(statement))
    assert (snapshot(sessions), ops.ledger(sessions, OPERATOR, None)) == before


def test_postgres_refuses_truncate(sessions: Sessions) -> None:
    with sessions() as session:
        if session.bind.dialect.name != "postgresql":  # type: ignore[union-attr]
            pytest.skip("TRUNCATE is PostgreSQL's")
    seed(sessions)
    subscribe(sessions)
    with pytest.raises(DatabaseError, match="append-only"), sessions.begin() as session:
        session.execute(text("TRUNCATE ledger_entries CASCADE"))
    assert len(ops.ledger(sessions, OPERATOR, None)) == 1


def test_migrations_are_idempotent_and_safe_at_once(db_url: str) -> None:
    errors: list[BaseException] = []

    def migrate() -> None:
        try:
            db.upgrade(db.create(db_url))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=migrate) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db.upgrade(db.create(db_url))
    with db.create(db_url).connect() as connection:
        assert (
            connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == head()
        )


def head() -> str:
    """The newest migration's revision, read from the scripts (not a constant to bump)."""
    config = Config()
    config.set_main_option("script_location", str(resources.files("billing") / "migrations"))
    [revision] = ScriptDirectory.from_config(config).get_heads()
    return revision


def test_bad_urls_are_one_line_errors() -> None:
    with pytest.raises(db.StoreError, match="not a database URL"):
        db.create("not a url")
    with pytest.raises(db.StoreError, match="unsupported database"):
        db.create("mysql://x@y/z")


def test_counters_kept_per_account_merge_into_the_sellers_sequence(db_url: str) -> None:
    engine = db.create(db_url)
    db.upgrade(engine, "0003")
    with engine.begin() as connection:  # two BILLING_ACCOUNTs used to count on their own
        connection.execute(
            text(
                "INSERT INTO invoice_counters (account, year, last) VALUES "
                "('default', 2026, 3), ('eu', 2026, 5), ('default', 2025, 9)"
            )
        )
    db.upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT account, year, last FROM invoice_counters ORDER BY year")
        ).all()
    assert [tuple(r) for r in rows] == [("seller", 2025, 9), ("seller", 2026, 5)]
    sessions = db.open_store(db_url)
    with sessions.begin() as session:
        assert finalize.next_number(session, 2026) == "INV-2026-000006"
