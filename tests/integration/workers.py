"""Factories for integration tests against the real Kafka broker: worker processes, files."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from pipeline.core.config import MeterConfig
from pipeline.core.counts import Tally
from pipeline.eventfile import parse_line
from pipeline.replay import replay
from pipeline.tracegen import TraceSpec, generate
from sinks.base import Batch, BatchingSink
from tests.integration.backends import bootstrap


def exe() -> str:
    path = shutil.which("billing-meter", path=str(Path(sys.executable).parent))
    assert path is not None
    return path


def kafka_reachable() -> bool:
    host, port = bootstrap().rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def produce_paced(lines: list[bytes], prefix: str, rate: int, cwd: Path) -> None:
    """``billing-meter produce -`` fed ``lines`` at about ``rate`` a second."""
    command = [exe(), "produce", "-", "--topic-prefix", prefix, "--bootstrap", bootstrap()]
    paced = subprocess.Popen(command, stdin=subprocess.PIPE, cwd=cwd, stdout=subprocess.DEVNULL)
    assert paced.stdin is not None
    started = time.monotonic()
    for n, line in enumerate(lines):
        paced.stdin.write(line)
        if n % 500 == 0:
            paced.stdin.flush()
            time.sleep(max(0.0, started + n / rate - time.monotonic()))
    paced.stdin.close()
    assert paced.wait(timeout=3600) == 0


class NullBackend:
    def write(self, batch: Batch) -> None:
        """Discard (the tally is what the test needs)."""


def write_trace(path: Path, events: int, seed: int) -> Tally:
    """Write a trace ending an hour ago; return what one clean offline pass counts."""
    end = int(time.time() * 1000) - 3_600_000
    lines = list(generate(TraceSpec(events=events, seed=seed, end_ms=end)))
    path.write_bytes(b"".join(lines))
    messages = [parse_line(line, n) for n, line in enumerate(lines, 1)]
    return replay(messages, BatchingSink(NullBackend()), MeterConfig(), "file:x")


TEST_TOKEN = "integration-test-token"  # noqa: S105 - a test credential


class WorkerProcess:
    """``billing-meter worker`` as a child process."""

    def __init__(
        self,
        workdir: Path,
        prefix: str,
        roles: str = "meter,sink,web",
        store: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.args = [
            exe(),
            "worker",
            "--roles",
            roles,
            "--topic-prefix",
            prefix,
            "--bootstrap",
            bootstrap(),
            "--web-port",
            str(self.port),
        ]
        if store is not None:
            self.args += ["--clickhouse", store]
        self.log = workdir / f"worker-{uuid.uuid4().hex[:6]}.log"
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        # nothing is readable without a credential: the worker gets a token, reads send it
        self.env = {**os.environ, "BILLING_API_TOKEN": TEST_TOKEN, **(env or {})}
        self.token = self.env["BILLING_API_TOKEN"]

    def start(self) -> WorkerProcess:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                self.args, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT, env=self.env
            )
        # ready: answering, and the meter (else the sink) reads its partitions
        key = (
            "meter_partitions"
            if "meter" in self.args[self.args.index("--roles") + 1]
            else ("assigned_partitions")
        )
        wait_for(lambda: (self.get("/api/health") or {}).get(key, 0) > 0, 60, self.tail)
        return self

    def request(self, path: str, *, anonymous: bool = False) -> urllib.request.Request:
        """A GET of ``path``, with the worker's token unless ``anonymous``."""
        headers = {} if anonymous else {"Authorization": f"Bearer {self.token}"}
        return urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers=headers)

    def get(self, path: str) -> Any:
        try:
            with urllib.request.urlopen(self.request(path), timeout=10) as r:  # noqa: S310
                return orjson.loads(r.read())
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return None

    def get_as(self, path: str, key: str) -> Any:
        """``path`` with ``Authorization: Bearer key``: JSON, or the bytes of a PDF."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", headers={"Authorization": f"Bearer {key}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - test URL
            body = response.read()
            return body if path.endswith(".pdf") else orjson.loads(body)

    def status(self, path: str, *, anonymous: bool = False) -> tuple[int, Any]:
        """HTTP status and JSON body (errors included)."""
        request = self.request(path, anonymous=anonymous)
        try:
            with urllib.request.urlopen(request, timeout=10) as r:  # noqa: S310 - test URL
                return r.status, orjson.loads(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, orjson.loads(exc.read())

    def text(self, path: str) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as r:
            return str(r.read().decode())

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


def wait_for(check: Callable[[], bool], timeout: float, describe: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s; {describe()}")


HOURLY = "/api/usage?by=hour&range=7d"  # hourly rows per app over a trace


def settled_report(
    worker: WorkerProcess,
    expected: Tally,
    timeout: float,
    describe: Callable[[], str] | None = None,
) -> list[dict[str, Any]]:
    """Wait until the worker's hourly report has the trace's session totals; that report."""
    want = (expected.sessions["usage"], expected.sessions["voice"], expected.sessions["alert"])
    wait_for(
        lambda: totals(worker.get(HOURLY)) == want,
        timeout,
        lambda: f"{totals(worker.get(HOURLY))} != {want}\n{(describe or worker.tail)()}",
    )
    return list(worker.get(HOURLY))


def totals(report: list[dict[str, Any]] | None) -> tuple[int, int, int]:
    report = report or []
    return (
        sum(r["usage_sessions"] for r in report),
        sum(r["voice_sessions"] for r in report),
        sum(r["alert_sessions"] for r in report),
    )


def cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [exe(), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        # the token a WorkerProcess has, so `usage --api` reads it (no anonymous reads)
        env={**os.environ, "BILLING_API_TOKEN": TEST_TOKEN, **(env or {})},
    )


def cli_ok(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Any:
    """Run a command that must succeed: its JSON output, or its text."""
    out = cli(*args, cwd=cwd, env=env)
    assert out.returncode == 0, out.stderr
    return orjson.loads(out.stdout) if out.stdout.lstrip().startswith(("{", "[")) else out.stdout


def store_query(store: str, sql: str, cwd: Path) -> list[list[Any]]:
    """Rows of ``sql`` (``{db}`` is the store's database), read by a fresh process: the
    embedded engine allows one path per process."""
    code = (
        "import sys, orjson; from sinks.clickhouse.store import open_store; "
        "s = open_store(sys.argv[1]); "
        "print(orjson.dumps(s.query(sys.argv[2].replace('{db}', s.database))).decode())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, store, sql],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return list(orjson.loads(out.stdout))
