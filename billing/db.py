"""Opening the money store: SQLite (embedded, default) or PostgreSQL, migrated to head.

SQLite runs in WAL mode and every transaction starts with ``BEGIN IMMEDIATE``, so
writers in different processes queue on the database lock instead of failing half way
(``busy_timeout`` 30 s). On PostgreSQL, commands lock the subscription row they change
(``SELECT ... FOR UPDATE``); unique idempotency keys back both up.
"""

from __future__ import annotations

import os
import sqlite3
import time
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from billing import policy
from billing.rules import EXPIRING_DAYS

DEFAULT_PATH = Path("billing-data") / "billing.db"
BUSY_TIMEOUT_MS = 30_000


class StoreError(Exception):
    """The money store cannot be opened or migrated (one line for the user)."""


def default_url() -> str:
    """``$BILLING_DB_URL``, else the embedded SQLite file ``./billing-data/billing.db``."""
    return os.environ.get("BILLING_DB_URL") or f"sqlite:///{DEFAULT_PATH}"


def _normalized(url: str) -> str:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(
            f"{url!r} is not a database URL (sqlite:///path or postgresql://...)"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
        raise StoreError(f"unsupported database {parsed.drivername!r}: use sqlite or postgresql")
    return parsed.render_as_string(hide_password=False)


def redacted(url: str) -> str:
    """``url`` without its password (for messages and logs)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid URL>"


def create(url: str | None = None) -> Engine:
    """An engine for ``url`` (default: ``default_url()``), with the serialization above."""
    url = _normalized(url or default_url())
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's BEGIN, not the driver's
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    _wal(cursor)
    cursor.close()


def _wal(cursor: Any) -> None:
    """Put the file in WAL mode (it stays so). Switching needs the file to itself, and SQLite
    answers "database is locked" at once, without waiting, while another process uses it
    (two workers starting on a new file): so it is retried until the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def upgrade(engine: Engine, target: str = "head") -> None:
    """Apply every migration not yet applied, up to ``target`` (idempotent; safe from two
    processes at once)."""
    config = Config()
    config.set_main_option("script_location", str(resources.files("billing") / "migrations"))
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":  # one migrator at a time
                connection.execute(text("SELECT pg_advisory_xact_lock(7261)"))
            config.attributes["connection"] = connection
            command.upgrade(config, target)
    except OperationalError as exc:
        raise StoreError(f"cannot open the money store: {exc.orig}") from None
    except ProgrammingError as exc:  # an application role may not migrate: it owns nothing
        raise StoreError(
            f"cannot migrate the money store as this role ({str(exc.orig).splitlines()[0]}):"
            " run `billing-meter db upgrade --url OWNER_URL` as the owner role"
        ) from None


def open_store(
    url: str | None = None, expiring_days: tuple[int, ...] = EXPIRING_DAYS
) -> sessionmaker[Session]:
    """Migrate the store at ``url`` and return its session factory; its sessions carry
    the policy (:mod:`billing.policy`)."""
    engine = create(url)
    upgrade(engine)
    return sessionmaker(engine, expire_on_commit=False, info=policy.session_info(expiring_days))
