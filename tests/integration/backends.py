"""Where the streaming tests run: the local broker and embedded ClickHouse (default), or
Kafka and ClickHouse containers (``BILLING_TEST_BACKEND=containers``, needs a Docker engine).

The same tests run on both: they read the bootstrap address and build store URLs through
:func:`bootstrap` and :func:`store_url`, which the session fixture points at the containers.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

KAFKA_IMAGE = "confluentinc/cp-kafka:7.6.0"
CLICKHOUSE_IMAGE = "clickhouse/clickhouse-server:24.8"
NO_DOCKER = (
    "BILLING_TEST_BACKEND=containers needs a Docker engine for testcontainers "
    "(this machine has the docker client but no daemon)"
)


def bootstrap() -> str:
    """The Kafka bootstrap address of this session (``KAFKA_BOOTSTRAP``)."""
    return os.environ.get("KAFKA_BOOTSTRAP", "127.0.0.1:9092")


def store_url(workdir: Path, tag: str, database: str = "billing") -> str:
    """A store URL for one test (``tag``: its topic prefix) and purpose (``database``):
    embedded (one chdb path per test) unless ``BILLING_TEST_CLICKHOUSE`` names a server."""
    server = os.environ.get("BILLING_TEST_CLICKHOUSE")
    if not server:
        return f"chdb://{workdir / 'store'}?database={database}"
    return f"{server}/{tag.strip('.')}_{database}"


def requested() -> str:
    """``local`` or ``containers`` (``BILLING_TEST_BACKEND``)."""
    return os.environ.get("BILLING_TEST_BACKEND", "local")


def docker_available() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    result = subprocess.run([docker, "info"], capture_output=True, check=False, timeout=20)
    return result.returncode == 0


@contextmanager
def containers() -> Iterator[tuple[str, str]]:
    """Kafka (KRaft) and a ClickHouse server in containers: (bootstrap, ClickHouse URL)."""
    from testcontainers.community.clickhouse import ClickHouseContainer
    from testcontainers.community.kafka import KafkaContainer

    with (
        KafkaContainer(KAFKA_IMAGE).with_kraft() as kafka,
        ClickHouseContainer(CLICKHOUSE_IMAGE, port=8123) as clickhouse,
    ):
        host = clickhouse.get_container_host_ip()
        port = clickhouse.get_exposed_port(8123)
        yield (
            kafka.get_bootstrap_server(),
            f"http://{clickhouse.username}:{clickhouse.password}@{host}:{port}",
        )
