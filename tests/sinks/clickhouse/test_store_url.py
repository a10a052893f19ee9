"""Store URL parsing (pure)."""

from __future__ import annotations

import pytest

from sinks.clickhouse.urls import StoreUrl, parse_store_url


def test_chdb_urls() -> None:
    assert parse_store_url("chdb:///var/lib/billing") == StoreUrl(
        "chdb", "billing", path="/var/lib/billing"
    )
    assert parse_store_url("chdb:///x?database=other").database == "other"
    relative = parse_store_url("chdb://data/store")
    assert relative.path.endswith("/data/store")
    assert relative.path.startswith("/")


def test_server_urls() -> None:
    url = parse_store_url("http://bill%40ing:p%3Ass@ch.local:8124/meter")
    assert (url.scheme, url.host, url.port, url.username, url.password, url.database) == (
        "http",
        "ch.local",
        8124,
        "bill@ing",
        "p:ss",
        "meter",
    )
    assert parse_store_url("https://ch.example").port == 8443
    assert parse_store_url("http://ch.example").database == "billing"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://x", "must start with chdb://"),
        ("chdb://", "needs a path"),
        ("http:///db", "no host"),
        ("http://h/bad-name", "not a valid database name"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_store_url(url)
