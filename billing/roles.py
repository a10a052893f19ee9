"""Least privilege on PostgreSQL: the owner role migrates (``db upgrade --url OWNER_URL``);
the worker, API and CLI connect as an application role that may read and write rows but
owns nothing, so it cannot ALTER, DROP or DISABLE the triggers that keep the ledger
append-only and finalized invoices immutable.

``grant_app_role`` gives that role exactly what the application needs, after every
migration (idempotent): SELECT/INSERT/UPDATE/DELETE on the tables, except that the ledger
takes no UPDATE or DELETE at all (the triggers refuse them anyway) and the migration
table is read-only; no TRUNCATE, no REFERENCES, no TRIGGER privilege.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, Engine, text

from billing.db import StoreError

_ROLE = re.compile(r"[a-z_][a-z0-9_]{0,62}")
APPEND_ONLY = ("ledger_entries",)
READ_ONLY = ("alembic_version",)


def _quoted(role: str) -> str:
    if _ROLE.fullmatch(role) is None:
        raise StoreError(f"role {role!r} must be a lower-case PostgreSQL name (a-z, 0-9, _)")
    return f'"{role}"'


def grant_app_role(engine: Engine, role: str) -> None:
    """Grant ``role`` the rows of every table, as the (owner) connection of ``engine``."""
    name = _quoted(role)
    if engine.dialect.name != "postgresql":
        raise StoreError("roles are PostgreSQL's: SQLite has no users")
    with engine.begin() as connection:
        if connection.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}) != 1:
            raise StoreError(f"there is no role {role!r}: create it first (CREATE ROLE ... LOGIN)")
        _grant(connection, name)


def _grant(connection: Connection, name: str) -> None:
    database = connection.scalar(text("SELECT current_database()"))
    statements = [
        f'GRANT CONNECT ON DATABASE "{database}" TO {name}',
        f"GRANT USAGE ON SCHEMA public TO {name}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {name}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {name}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {name}",
        *(f"REVOKE UPDATE, DELETE ON {table} FROM {name}" for table in APPEND_ONLY),
        *(f"REVOKE INSERT, UPDATE, DELETE ON {table} FROM {name}" for table in READ_ONLY),
    ]
    for statement in statements:
        connection.execute(text(statement))
