"""The same sink and report against a ClickHouse server over HTTP.

Runs where a server is reachable: ``CLICKHOUSE_URL=http://user:pass@host:8123``, or a Docker
engine for testcontainers. Skipped with the reason otherwise (this machine has neither).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from schemas.agent_activity import AgentActivity
from schemas.billing_session import BillingSession
from sinks.base import BatchingSink
from sinks.clickhouse.store import ClickHouseStore, open_store
from tests.conftest import server_url
from tests.integration.backends import docker_available

pytestmark = [pytest.mark.integration, pytest.mark.server]
MONDAY = 1_763_942_400_000


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    url = server_url()
    if url is not None:
        yield url.rstrip("/").rsplit("/", 1)[0] if url.count("/") > 2 else url
        return
    if not docker_available():
        pytest.skip(
            "no ClickHouse server: set CLICKHOUSE_URL=http://user:pass@host:8123 or run "
            "where a Docker engine is available (testcontainers)"
        )
    from testcontainers.clickhouse import ClickHouseContainer

    with ClickHouseContainer("clickhouse/clickhouse-server:24.8", port=8123) as server:
        host, port = server.get_container_host_ip(), server.get_exposed_port(8123)
        yield f"http://{server.username}:{server.password}@{host}:{port}"


@pytest.fixture
def server_store(base_url: str) -> Iterator[ClickHouseStore]:
    store = open_store(f"{base_url}/t_{uuid.uuid4().hex[:12]}")
    yield store
    store.query(f"DROP DATABASE IF EXISTS {store.database}")
    store.close()


def test_idempotent_writes_and_distinct_agents_on_a_server(server_store: ClickHouseStore) -> None:
    sink = BatchingSink(server_store, max_rows=3)
    for _ in range(2):
        for n in range(10):
            sink.add(
                BillingSession(
                    f"a/c{n}/0/usage/0",
                    "usage",
                    "a",
                    f"c{n}",
                    0,
                    0,
                    "web",
                    MONDAY + n * 86_400_000 // 10,
                )
            )
        for day in range(7):
            sink.add(AgentActivity("a", "agent-1", MONDAY + day * 86_400_000))
        sink.flush()
    week = server_store.usage_rows(
        by="week",
        source="week",
        start_ms=MONDAY,
        end_ms=MONDAY + 7 * 86_400_000,
        app_id=None,
        sum_apps=True,
    )
    assert [(r[2], r[5]) for r in week] == [(10, 1)]
