"""Money-store fixtures: every store test runs on embedded SQLite and on a real
PostgreSQL server (``deploy/postgres/local.sh``), each test on a database of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from billing import db
from billing.operations import Sessions
from tests.billing.pg import drop_postgres, fresh_postgres, postgres_or_skip


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh money store URL, on each database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'billing.db'}"
        return
    postgres_or_skip()
    url, name = fresh_postgres()
    yield url
    drop_postgres(name)


@pytest.fixture
def sessions(db_url: str) -> Iterator[Sessions]:
    """The migrated store's session factory."""
    factory = db.open_store(db_url)
    yield factory
    factory.kw["bind"].dispose()
