"""Least privilege on the real PostgreSQL server: the owner migrates and grants; the
application role runs the money operations but cannot touch the triggers, the schema or
the ledger's rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from billing import db, roles
from billing import operations as ops
from billing.access import OPERATOR
from billing_meter.cli import main
from tests.billing.helpers import NOW, seed, subscribe
from tests.billing.pg import PG_ADMIN_URL, drop_postgres, fresh_postgres, postgres_or_skip


@pytest.fixture
def owner_and_app() -> Iterator[tuple[str, str, str]]:
    """A fresh database (owner: the test server's user), a login role of its own, and the
    role's URL; the role is dropped afterwards."""
    postgres_or_skip()
    url, name = fresh_postgres()
    role = f"t_app_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE ROLE "{role}" LOGIN'))
    app_url = make_url(url).set(username=role).render_as_string(hide_password=False)
    try:
        yield url, role, app_url
    finally:
        with create_engine(url, isolation_level="AUTOCOMMIT").connect() as connection:
            connection.execute(text(f'DROP OWNED BY "{role}"'))
        drop_postgres(name)
        with admin.connect() as connection:
            connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()


REFUSED = [
    "ALTER TABLE ledger_entries DISABLE TRIGGER USER",
    "ALTER TABLE ledger_entries DISABLE TRIGGER ALL",
    "DROP TRIGGER ledger_entries_append_only ON ledger_entries",
    "DROP TABLE ledger_entries",
    "TRUNCATE ledger_entries",
    "UPDATE ledger_entries SET amount_minor = 0",
    "DELETE FROM ledger_entries",
    "UPDATE alembic_version SET version_num = '0001'",
    "CREATE TABLE sneaky (id int)",
]


def test_the_application_role_runs_billing_but_cannot_touch_triggers(
    owner_and_app: tuple[str, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    owner_url, role, app_url = owner_and_app
    assert main(["db", "upgrade", "--url", owner_url, "--grant-to", role]) == 0
    assert "may read and write" in capsys.readouterr().out
    sessions = db.open_store(app_url)  # at head already: the role migrates nothing
    seed(sessions)
    subscribe(sessions, "bot-1", plan="starter", owner="alice")
    order = ops.add_funds(sessions, OPERATOR, "bot-1", amount="25.00", key="k", now_ms=NOW)
    assert order["status"] == "paid"
    engine = create_engine(db._normalized(app_url))
    for statement in REFUSED:
        with engine.connect() as connection, pytest.raises(DBAPIError) as refused:
            connection.execute(text(statement))
        assert "permission denied" in str(refused.value) or "must be owner" in str(refused.value), (
            statement
        )
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM ledger_entries")) == 2  # fee, topup


def test_an_application_role_cannot_migrate(owner_and_app: tuple[str, str, str]) -> None:
    _, role, app_url = owner_and_app
    with pytest.raises(db.StoreError, match="db upgrade --url OWNER_URL"):
        db.open_store(app_url)  # a fresh database: the role may not create the tables
    with pytest.raises(db.StoreError, match="no role"):
        roles.grant_app_role(db.create(owner_and_app[0]), "t_missing_role")
    with pytest.raises(db.StoreError, match="lower-case"):
        roles.grant_app_role(db.create(owner_and_app[0]), 'x"; DROP ROLE billing; --')
    assert role
