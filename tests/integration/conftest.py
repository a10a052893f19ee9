"""The streaming tests' backend: the local broker and embedded ClickHouse, or containers."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.integration import backends


@pytest.fixture(scope="session")
def container_backend() -> Iterator[None]:
    """Start Kafka and ClickHouse containers once and point the tests at them."""
    if not backends.docker_available():
        pytest.skip(backends.NO_DOCKER)
    saved = {k: os.environ.get(k) for k in ("KAFKA_BOOTSTRAP", "BILLING_TEST_CLICKHOUSE")}
    with backends.containers() as (bootstrap, clickhouse):
        os.environ["KAFKA_BOOTSTRAP"] = bootstrap
        os.environ["BILLING_TEST_CLICKHOUSE"] = clickhouse
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@pytest.fixture(scope="session")
def kafka_backend(request: pytest.FixtureRequest) -> None:
    """Kafka tests (and their module fixtures) depend on this: containers when
    ``BILLING_TEST_BACKEND=containers``, else the local broker and embedded ClickHouse."""
    if backends.requested() == "containers":
        request.getfixturevalue("container_backend")


@pytest.fixture(autouse=True)
def _backend(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("kafka"):
        request.getfixturevalue("kafka_backend")
