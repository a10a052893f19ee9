"""A real PostgreSQL server for the money-store tests (``deploy/postgres/local.sh``)."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

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


def postgres_or_skip() -> None:
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
