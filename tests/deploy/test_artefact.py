"""The one artefact: the wheel holds every package and its data, installs outside the
checkout with the pinned versions, and runs (CLI, migrations, the web role); the image is
built from it.

The wheel's dependencies are downloaded once into ``~/.cache/billing-meter/wheels``
(``BILLING_WHEEL_CACHE``), then installed from there without the index.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from billing_meter.cli import build_parser
from tests.integration.workers import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("pipeline", "agents", "schemas", "sinks", "web", "billing", "billing_meter")
CACHE = Path(os.environ.get("BILLING_WHEEL_CACHE", Path.home() / ".cache/billing-meter/wheels"))
TOKEN = "artefact-test-token"  # noqa: S105 - a test worker's

pytestmark = pytest.mark.artefact


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"{args}: {result.stdout[-2000:]} {result.stderr[-2000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", ".", "-w", out, cwd=ROOT)
    (built,) = out.glob("billing_meter-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv (outside the checkout) with the wheel; its ``bin`` folder."""
    venv = tmp_path_factory.mktemp("venv")
    _run(sys.executable, "-m", "venv", venv, cwd=venv)
    pip = [venv / "bin" / "python", "-m", "pip", "install", "-q", "-c", ROOT / "constraints.txt"]
    offline = subprocess.run(
        [*map(str, pip), "--no-index", "--find-links", str(CACHE), str(wheel)],
        capture_output=True,
        check=False,
    )
    if offline.returncode != 0:  # a first run, or constraints.txt changed: fill the cache
        CACHE.mkdir(parents=True, exist_ok=True)
        pip_download = [sys.executable, "-m", "pip", "download", "-q", "-d", CACHE]
        _run(*pip_download, "-c", ROOT / "constraints.txt", wheel, cwd=ROOT)
        (CACHE / wheel.name).unlink(missing_ok=True)  # the project's own comes from the build
        _run(*pip, "--no-index", "--find-links", CACHE, wheel, cwd=venv)
    return venv / "bin"


def _tracked_package_files() -> set[str]:
    listed = _run("git", "ls-files", *PACKAGES, cwd=ROOT).split()
    return {name for name in listed if (ROOT / name).is_file()}


def test_the_wheel_holds_every_tracked_file_of_the_packages(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        inside = {name for name in archive.namelist() if ".dist-info/" not in name}
    tracked = _tracked_package_files()
    assert {"web/static/usage.html", "billing/migrations/script.py.mako"} <= tracked
    assert tracked - inside == set()


@pytest.fixture
def empty_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "empty"
    folder.mkdir()
    return folder


def _clean_env(bin_dir: Path) -> dict[str, str]:
    """No PYTHONPATH, no store URLs of the test run: the installed package and its defaults."""
    keep = {"HOME", "LANG", "TMPDIR"}
    env = {name: value for name, value in os.environ.items() if name in keep}
    return {**env, "PATH": f"{bin_dir}:/usr/bin:/bin", "BILLING_API_TOKEN": TOKEN}


def test_the_installed_cli_runs_from_an_empty_folder(installed: Path, empty_folder: Path) -> None:
    env = _clean_env(installed)
    where = _run("python", "-c", "import billing_meter; print(billing_meter.__file__)",
                 cwd=empty_folder, env=env)  # fmt: skip
    assert where.startswith(str(installed.parent)), where
    assert "worker" in _run("billing-meter", "--help", cwd=empty_folder, env=env)
    upgraded = _run("billing-meter", "db", "upgrade", cwd=empty_folder, env=env)
    assert "newest schema" in upgraded
    assert (empty_folder / "billing-data" / "billing.db").is_file()


@pytest.fixture
def web_worker(installed: Path, empty_folder: Path) -> Iterator[str]:
    port = free_port()
    args = ["billing-meter", "worker", "--roles", "web", "--bootstrap", "127.0.0.1:1"]
    log = empty_folder.parent / "worker.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*args, "--web-port", str(port)],
            cwd=empty_folder,
            env=_clean_env(installed),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _status(f"{base}/api/health") == 200, 60, log.read_text)
        yield base
    finally:
        proc.terminate()
        assert proc.wait(timeout=40) == 0, log.read_text()


def _get(url: str, token: str | None = None) -> tuple[int | None, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        request = urllib.request.Request(url, headers=headers)  # noqa: S310 - loopback
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return None, b""


def _status(url: str, token: str | None = None) -> int | None:
    return _get(url, token)[0]


def test_the_installed_web_role_serves_the_pages_and_the_api(web_worker: str) -> None:
    status, login = _get(f"{web_worker}/usage")  # BILLING_API_TOKEN is set: the login form
    assert status == 401
    assert b"<form" in login
    status, page = _get(f"{web_worker}/usage", TOKEN)  # the static page, from the package data
    assert status == 200
    assert page == (ROOT / "web" / "static" / "usage.html").read_bytes()
    assert _status(f"{web_worker}/api/usage?range=7d") == 401
    status, body = _get(f"{web_worker}/api/usage?range=7d&all_apps=1", TOKEN)
    assert (status, body) == (200, b"[]")


def _stages(dockerfile: str) -> list[str]:
    return re.split(r"^FROM ", dockerfile, flags=re.M)[1:]


def test_the_image_installs_the_wheel_and_names_no_source_folder() -> None:
    text = (ROOT / "deploy" / "Dockerfile").read_text()
    build, final = _stages(text)[0], _stages(text)[-1]
    assert len(_stages(text)) >= 2
    assert re.search(r"pip wheel .*--no-deps", build)
    assert re.search(r"pip install .*-c \S*constraints\.txt \S*billing_meter-\*\.whl", final)
    copied = re.findall(r"^COPY (.+)$", text, flags=re.M)
    for package in PACKAGES:
        assert not any(re.search(rf"(^|\s){package}/?(\s|$)", c) for c in copied), package
    assert re.search(r"^USER (?!root|0\b)\S+", final, flags=re.M)
    assert re.search(r"^HEALTHCHECK .*\n?.*/api/health", final, flags=re.M)
    assert 'ENTRYPOINT ["billing-meter"]' in final


def test_the_compose_workers_run_commands_the_cli_accepts() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.kafka.yml").read_text())
    services = compose["services"]
    workers = {name: s for name, s in services.items() if s.get("image") == "billing-meter:local"}
    assert {"meter", "sink", "produce"} <= set(workers)
    assert services["meter"]["build"]["dockerfile"] == "deploy/Dockerfile"
    for name in ("meter", "sink"):
        args = build_parser().parse_args(workers[name]["command"])  # a wrong flag exits 2
        assert args.web_host == "0.0.0.0", name  # noqa: S104 - reachable by Prometheus
    entry = workers["produce"]["entrypoint"]
    assert entry[0] == "billing-meter"
    build_parser().parse_args([*entry[1:], "/data/events.jsonl"])
