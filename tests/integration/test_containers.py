"""The streaming suite against Kafka and ClickHouse containers (testcontainers).

Runs where a Docker engine is available; skipped here with the reason (no daemon).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration import backends

pytestmark = [pytest.mark.integration, pytest.mark.server]
ROOT = Path(__file__).resolve().parents[2]


def test_the_streaming_suite_passes_against_kafka_and_clickhouse_containers() -> None:
    if backends.requested() == "containers":
        pytest.skip("this session already runs the suite on containers")
    if not backends.docker_available():
        pytest.skip(backends.NO_DOCKER)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/integration/test_streaming.py"],
        cwd=ROOT,
        env={**os.environ, "BILLING_TEST_BACKEND": "containers"},
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
