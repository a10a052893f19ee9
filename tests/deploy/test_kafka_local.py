"""``deploy/kafka/local.sh`` tells its own broker from another process holding the port."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "kafka" / "local.sh"


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port this test process listens on (not a Kafka broker)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def _script(command: str, port: int, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KAFKA_PORT": str(port), "KAFKA_DATA_DIR": str(data_dir)}
    env["KAFKA_LIB_DIR"] = str(data_dir / "no-jars")  # nothing is fetched when it refuses
    return subprocess.run(
        ["bash", str(SCRIPT), command],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_start_refuses_a_port_another_process_holds(held_port: int, tmp_path: Path) -> None:
    result = _script("start", held_port, tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"127.0.0.1:{held_port} is held by another process (pid {os.getpid()}" in lines[0]
    assert not (tmp_path / "no-jars").exists()
    assert not (tmp_path / "kafka.pid").exists()


def test_status_tells_another_holder_from_no_broker(held_port: int, tmp_path: Path) -> None:
    held = _script("status", held_port, tmp_path)
    assert held.returncode == 4
    assert "not running; 127.0.0.1:" in held.stderr
    assert "held by another process" in held.stderr
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        free = int(sock.getsockname()[1])
    idle = _script("status", free, tmp_path)
    assert (idle.returncode, idle.stderr.strip()) == (3, "kafka: not running")
