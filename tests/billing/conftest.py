"""Money-store fixtures: every store test runs on embedded SQLite and on a real
PostgreSQL server (``deploy/postgres/local.sh``), each test on a database of its own
(``db_url``, in ``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from billing import db
from billing.operations import Sessions


@pytest.fixture
def sessions(db_url: str) -> Iterator[Sessions]:
    """The migrated store's session factory."""
    factory = db.open_store(db_url)
    yield factory
    factory.kw["bind"].dispose()
