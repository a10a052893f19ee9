"""Shared fixtures: the embedded ClickHouse store (one chdb path per test process) and
a factory of stores, each on a database of its own."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sinks.clickhouse.store import ClickHouseStore, open_store
from tests.billing.pg import drop_postgres, fresh_postgres, postgres_or_skip

StoreFactory = Callable[[], ClickHouseStore]


@pytest.fixture(scope="session")
def chdb_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """chdb allows one store path per process: the whole test session shares this one."""
    return tmp_path_factory.mktemp("chdb")


@pytest.fixture
def store_factory(chdb_path: Path) -> Iterator[StoreFactory]:
    """Make stores on the embedded engine, each with a unique database, dropped afterwards."""
    made: list[ClickHouseStore] = []

    def make() -> ClickHouseStore:
        store = open_store(f"chdb://{chdb_path}?database=t_{uuid.uuid4().hex[:12]}")
        made.append(store)
        return store

    yield make
    for store in made:
        store.query(f"DROP DATABASE IF EXISTS {store.database}")
        store.close()


@pytest.fixture
def store(store_factory: StoreFactory) -> ClickHouseStore:
    """One store on a fresh database."""
    return store_factory()


def server_url() -> str | None:
    """A ClickHouse server: ``CLICKHOUSE_URL`` (http...), if set."""
    url = os.environ.get("CLICKHOUSE_URL", "")
    return url if url.startswith("http") else None


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh money store: embedded SQLite, and a database of its own on the real
    PostgreSQL server (skipped without one, unless ``BILLING_PG_REQUIRED`` is set)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'billing.db'}"
        return
    postgres_or_skip()
    url, name = fresh_postgres()
    yield url
    drop_postgres(name)
