"""Money-store fixtures: every store test runs on embedded SQLite and on a real
PostgreSQL server (``deploy/postgres/local.sh``), each test on a database of its own."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from billing import db
from billing.operations import Sessions

PG_ADMIN_URL = os.environ.get(
    "BILLING_TEST_PG_URL", "postgresql+psycopg://billing@127.0.0.1:55432/postgres"
)


def postgres_reachable() -> bool:
    try:
        with create_engine(PG_ADMIN_URL).connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError:
        return False
    return True


def _postgres_or_skip() -> None:
    if postgres_reachable():
        return
    message = f"no PostgreSQL at {PG_ADMIN_URL}: run deploy/postgres/local.sh start"
    if os.environ.get("BILLING_PG_REQUIRED"):
        pytest.fail(message)
    pytest.skip(message)


def fresh_postgres() -> tuple[str, str]:
    """A new empty database on the test server: (its URL, its name)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", name


def drop_postgres(name: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh money store URL, on each database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'billing.db'}"
        return
    _postgres_or_skip()
    url, name = fresh_postgres()
    yield url
    drop_postgres(name)


@pytest.fixture
def sessions(db_url: str) -> Iterator[Sessions]:
    """The migrated store's session factory."""
    factory = db.open_store(db_url)
    yield factory
    factory.kw["bind"].dispose()
