"""Where a ClickHouse store is: an embedded path (chdb) or a server (HTTP)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from sinks.clickhouse.ddl import check_identifier

DEFAULT_DATABASE = "billing"
DEFAULT_PATH = Path("billing-data") / "chdb"


@dataclass(frozen=True, slots=True)
class StoreUrl:
    """Where the store is: ``chdb`` (a path) or ``http``/``https`` (a server)."""

    scheme: str
    database: str
    path: str = ""
    host: str = ""
    port: int = 0
    username: str = "default"
    password: str = ""


def default_url() -> str:
    """``CLICKHOUSE_URL`` or the embedded store under the working directory."""
    return os.environ.get("CLICKHOUSE_URL") or f"chdb://{DEFAULT_PATH.resolve()}"


def parse_store_url(url: str) -> StoreUrl:
    """Parse ``chdb:///abs/path``, ``chdb://rel/path`` or ``http(s)://user:pass@host:port/db``.

    A chdb URL may name the database as ``?database=NAME``.
    """
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if parts.scheme == "chdb":
        path = unquote((parts.netloc + parts.path) if parts.netloc else parts.path)
        if not path:
            raise ValueError(f"{url!r}: a chdb URL needs a path, e.g. chdb:///var/lib/billing")
        database = query.get("database", [DEFAULT_DATABASE])[0]
        return StoreUrl("chdb", check_identifier(database), path=str(Path(path).resolve()))
    if parts.scheme in {"http", "https"}:
        if not parts.hostname:
            raise ValueError(f"{url!r}: no host")
        database = parts.path.strip("/") or DEFAULT_DATABASE
        return StoreUrl(
            parts.scheme,
            check_identifier(database),
            host=parts.hostname,
            port=parts.port or (8443 if parts.scheme == "https" else 8123),
            username=unquote(parts.username or "default"),
            password=unquote(parts.password or ""),
        )
    raise ValueError(f"{url!r}: the ClickHouse URL must start with chdb://, http:// or https://")
