"""``worker --roles web`` and ``billing`` start and answer with no broker listening."""

from __future__ import annotations

import os
import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import orjson
import pytest

from billing.invoice_settings import SELLER_MISSING
from tests.integration.workers import TEST_TOKEN, exe, free_port, wait_for

pytestmark = pytest.mark.integration

NOWHERE = "127.0.0.1:1"  # nothing listens on port 1


def _start(tmp_path: Path, roles: str) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    log = tmp_path / f"worker-{roles}.log"
    args = [exe(), "worker", "--roles", roles, "--bootstrap", NOWHERE, "--web-port", str(port)]
    args += ["--clickhouse", f"chdb://{tmp_path / 'store'}", "--db", f"sqlite:///{tmp_path}/m.db"]
    env = {**os.environ, "BILLING_API_TOKEN": TEST_TOKEN}  # nothing is readable without one
    env.pop("BILLING_SELLER", None)  # no seller: invoices wait, and health says so
    with log.open("wb") as out:
        proc = subprocess.Popen(args, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, env=env)
    return proc, f"http://127.0.0.1:{port}", log


def _get(url: str) -> dict[str, object] | None:
    try:
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {TEST_TOKEN}"})  # noqa: S310 - loopback
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
            data: dict[str, object] = orjson.loads(response.read())
            return data
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def _stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=40)


def test_the_web_role_answers_without_kafka(tmp_path: Path) -> None:
    proc, base, log = _start(tmp_path, "web")
    try:
        wait_for(lambda: _get(f"{base}/api/health") is not None, 60, log.read_text)
        health = _get(f"{base}/api/health")
        assert health is not None
        assert health["roles"] == ["web"]
        assert "notifications" not in health  # the web role has no producer
        assert _get(f"{base}/api/usage?range=7d&all_apps=1") == []  # an empty store, answered
    finally:
        assert _stop(proc) == 0, log.read_text()


def test_the_billing_role_starts_and_reports_kafka_unreachable(tmp_path: Path) -> None:
    proc, base, log = _start(tmp_path, "web,billing")
    try:

        def failed_once() -> bool:
            health = _get(f"{base}/api/health") or {}
            notes = health.get("notifications")
            return isinstance(notes, dict) and notes["error"] not in (None, "connecting")

        wait_for(failed_once, 60, log.read_text)
        health = _get(f"{base}/api/health")
        assert health is not None
        # degraded, not failing: it serves and posts, but holds invoices without a seller
        assert health["status"] == "degraded"
        assert health["invoices"] == {"finalizing": False, "reason": SELLER_MISSING, "waiting": 0}
        assert health["notifications"]["connected"] is False  # type: ignore[index]
        assert NOWHERE in str(health["notifications"]["error"])  # type: ignore[index]
        assert proc.poll() is None  # still running, retrying in the background
    finally:
        assert _stop(proc) == 0, log.read_text()


def test_the_billing_role_alone_serves_probes_and_metrics_but_no_api(tmp_path: Path) -> None:
    """The HTTP API is the web role's: ``--roles billing`` posts and publishes only."""
    proc, base, log = _start(tmp_path, "billing")
    try:
        wait_for(lambda: _get(f"{base}/api/health") is not None, 60, log.read_text)
        with urllib.request.urlopen(f"{base}/metrics", timeout=5) as response:  # noqa: S310
            assert b"billing_" in response.read()
        for path in ("/api/plans", "/api/subscriptions", "/usage"):
            try:
                urllib.request.urlopen(f"{base}{path}", timeout=5)  # noqa: S310 - loopback
            except urllib.error.HTTPError as exc:
                assert exc.code == 404, path
            else:
                raise AssertionError(f"{path} answered without the web role")
    finally:
        assert _stop(proc) == 0, log.read_text()
