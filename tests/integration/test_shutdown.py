"""A worker told to stop exits within 30 s even when its broker has gone away."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.workers import WorkerProcess, free_port

pytestmark = [pytest.mark.integration, pytest.mark.kafka]
LOCAL = Path(__file__).resolve().parents[2] / "deploy" / "kafka" / "local.sh"


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A broker of this test's own (the shared one must stay up for the others)."""
    port = free_port()
    env = {
        **os.environ,
        "KAFKA_PORT": str(port),
        "KAFKA_CONTROLLER_PORT": str(free_port()),
        "KAFKA_DATA_DIR": str(tmp_path / "kafka"),
    }
    subprocess.run([str(LOCAL), "start"], env=env, check=True, capture_output=True, timeout=180)
    yield f"127.0.0.1:{port}", env
    subprocess.run([str(LOCAL), "stop"], env=env, check=False, capture_output=True, timeout=60)


def test_sigterm_with_the_broker_stopped_exits_within_30_s(
    tmp_path: Path, own_broker: tuple[str, dict[str, str]]
) -> None:
    address, env = own_broker
    worker = WorkerProcess(
        tmp_path,
        "shutdown.",
        store=f"chdb://{tmp_path / 'store'}",
        env={"KAFKA_BOOTSTRAP": address},
    )
    worker.args[worker.args.index("--bootstrap") + 1] = address
    worker.start()
    pid = int((Path(env["KAFKA_DATA_DIR"]) / "kafka.pid").read_text())
    os.kill(pid, signal.SIGKILL)  # the broker is gone, mid-session
    time.sleep(3)
    assert worker.proc is not None
    started = time.monotonic()
    worker.proc.send_signal(signal.SIGTERM)
    code = worker.proc.wait(timeout=60)
    elapsed = time.monotonic() - started
    assert elapsed <= 30, f"took {elapsed:.1f} s\n{worker.tail()}"
    assert code in (0, 1), worker.tail()
