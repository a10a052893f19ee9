"""The ``billing-meter`` console script, run as a user runs it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from pipeline.tracegen import TraceSpec, generate

pytestmark = pytest.mark.integration

END = "2025-11-26T12:00:00Z"


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("billing-meter", path=str(Path(sys.executable).parent))
    assert exe is not None, "pip install -e . provides the console script"
    return subprocess.run(
        [exe, *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture
def trace(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(generate(TraceSpec(events=2_000, seed=3))))
    return path


def test_replay_then_usage_json(tmp_path: Path, trace: Path) -> None:
    first = cli("replay", str(trace), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("events=")
    assert (tmp_path / "billing-data" / "chdb").is_dir()  # the embedded default
    second = cli("replay", str(trace), cwd=tmp_path)
    assert second.stdout == first.stdout
    out = cli(
        "usage",
        "--from",
        "2025-11-25",
        "--to",
        "2025-11-27",
        "--by",
        "day",
        "--all-apps",
        "--format",
        "json",
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    rows = orjson.loads(out.stdout)
    assert [r["period"] for r in rows] == ["2025-11-25", "2025-11-26"]
    assert {r["app_id"] for r in rows} == {"*"}
    counts = dict(part.split("=") for part in first.stdout.split() if "=" in part)
    assert sum(r["usage_sessions"] for r in rows) == int(counts["usage"])
    assert sum(r["alert_sessions"] for r in rows) == int(counts["alert"])
    assert all(r["billing_sessions"] == r["usage_sessions"] + r["alert_sessions"] for r in rows)


def test_usage_table_and_csv_and_app_filter(tmp_path: Path, trace: Path) -> None:
    url = f"chdb://{tmp_path / 'store'}"
    assert cli("replay", str(trace), "--clickhouse", url, cwd=tmp_path).returncode == 0
    table = cli(
        "usage",
        "--clickhouse",
        url,
        "--from",
        "2025-11-25",
        "--to",
        "2025-11-27",
        "--app",
        "app-2",
        cwd=tmp_path,
    )
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:2] == ["period", "app"]
    assert all(line.split()[1] == "app-2" for line in lines[2:-2])
    assert lines[-1].startswith("total")
    csv = cli(
        "usage",
        "--clickhouse",
        url,
        "--from",
        "2025-11-25",
        "--to",
        "2025-11-27",
        "--by",
        "week",
        "--format",
        "csv",
        cwd=tmp_path,
    )
    assert (
        csv.stdout.splitlines()[0]
        == "period,app_id,billing_sessions,usage_sessions,alert_sessions,voice_sessions,agents"
    )
    assert csv.stdout.splitlines()[1].startswith("2025-11-24,app-1,")


@pytest.mark.parametrize(
    "args",
    [
        ["usage", "--by", "year"],
        ["usage", "--range", "7d", "--from", "2025-11-01"],
        ["usage", "--from", "2025-11-01T10:15:00Z"],
        ["usage", "--clickhouse", "mysql://x"],
        ["replay", "missing.jsonl"],
        ["replay"],
        ["replay", "x.jsonl", "--slice", "ten"],
        ["frobnicate"],
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "x.jsonl").write_text("")
    result = cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("billing-meter: error: ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("BILLING_METER_BATCH", "lots", "BILLING_METER_BATCH: 'lots' is not an integer"),
        ("BILLING_BATCH_WITHIN", "-1", "BILLING_BATCH_WITHIN must be positive, got -1"),
    ],
)
def test_bad_batch_setting_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    result = cli("worker", "--bootstrap", "127.0.0.1:1", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == f"billing-meter: error: {message}\n"


def test_malformed_event_file_line_is_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "bad.jsonl").write_text('{"topic": "conversation-turns", "raw": "x"}\nnope\n')
    result = cli("replay", "bad.jsonl", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "billing-meter: error: bad.jsonl: line 2: not a JSON object\n"


def test_store_in_use_is_a_clear_error(tmp_path: Path, trace: Path) -> None:
    holder = subprocess.Popen(  # holds the embedded store, as a running worker would
        [
            sys.executable,
            "-c",
            "import sys, time; from sinks.clickhouse.store import open_store;"
            " s = open_store(sys.argv[1]); print('ok', flush=True); time.sleep(60)",
            f"chdb://{tmp_path / 'held'}",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ok"
        result = cli("usage", "--clickhouse", f"chdb://{tmp_path / 'held'}", cwd=tmp_path)
    finally:
        holder.kill()
    assert result.returncode == 2
    assert "in use by another process" in result.stderr


def test_generate_creates_directories_and_is_deterministic(tmp_path: Path) -> None:
    args = ("--events", "500", "--end", "2025-11-26T12:00:00Z")
    first = cli("generate", "a/b/one.jsonl", *args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert cli("generate", "two.jsonl", *args, cwd=tmp_path).returncode == 0
    assert (tmp_path / "a/b/one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()


def test_unwritable_output_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    result = cli("generate", "file/x.jsonl", "--events", "10", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("billing-meter: error: ")
    assert result.stderr.count("\n") == 1
