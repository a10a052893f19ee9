"""The billing commands of the CLI: JSON with decimal strings, and one line + exit 2
for every refusal."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import orjson
import pytest

from billing_meter.cli import main

BALANCE_FIELDS = {
    "app_id",
    "plan",
    "kind",
    "currency",
    "status",
    "notices",
    "balance",
    "period_start",
    "period_end",
    "usage",
    "charges",
    "ends_at",
    "pending_plan",
    "owner",
    "time_zone",
}


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("BILLING_NOW", "2026-11-15T12:00:00Z")
    url = f"sqlite:///{tmp_path / 'b.db'}"
    for argv in (
        ["users", "add", "alice", "--role", "owner"],
        [
            "plans",
            "add",
            "starter",
            "--name",
            "Starter",
            "--currency",
            "USD",
            "--fee",
            "49.00",
            "--included",
            "billing_sessions=1000,voice_sessions=200,agents=2",
            "--price",
            "billing_sessions=0.05,voice_sessions=0.10,agents=15",
        ],
        [
            "subscribe",
            "bot-1",
            "--plan",
            "starter",
            "--owner",
            "alice",
            "--start",
            "2026-11-01",
            "--tz",
            "Asia/Kathmandu",
        ],
        ["funds", "add", "bot-1", "100.00", "--idempotency-key", "k1"],
    ):
        assert main([*argv, "--db", url]) == 0
    return url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_balance_json_has_the_contract_fields(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "balance", "--format", "json", "--db", db)
    assert code == 0
    [view] = orjson.loads(out)
    assert set(view) >= BALANCE_FIELDS
    assert view["balance"] == "51.00" and view["period_start"] == "2026-11-01T00:00:00+05:45"
    assert view["charges"] == {
        "billing_sessions": "0.00",
        "voice_sessions": "0.00",
        "agents": "0.00",
    }


def test_ledger_csv_and_tables(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "ledger", "--format", "csv", "--db", db)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and [(r["kind"], r["amount"]) for r in rows] == [
        ("fee", "-49.00"),
        ("topup", "100.00"),
    ]
    code, out, _ = run(capsys, "plans", "list", "--db", db)
    assert code == 0 and out.splitlines()[0].split()[:3] == ["code", "version", "name"]
    code, out, _ = run(capsys, "notifications", "--format", "json", "--db", db)
    assert [n["kind"] for n in orjson.loads(out)] == ["balance.recovered", "balance.depleted"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["funds", "add", "bot-1", "-5"], "amount must be positive"),
        (["funds", "add", "bot-1", "0"], "amount must be positive"),
        (["funds", "add", "bot-1", "1.001"], "more than 2 decimal places"),
        (["funds", "add", "nope", "5"], "unknown app 'nope'"),
        (
            ["subscribe", "bot-1", "--plan", "starter", "--owner", "alice"],
            "already has a subscription",
        ),
        (["subscribe", "bot-2", "--plan", "nope", "--owner", "alice"], "unknown plan 'nope'"),
        (
            ["subscribe", "bot-2", "--plan", "starter", "--owner", "alice", "--tz", "Mars/X"],
            "not an IANA time zone",
        ),
        (["plan", "change", "bot-1", "--to", "starter"], "already on starter"),
        (["extension", "request", "bot-1", "--days", "5"], "no term to extend"),
        (["extension", "approve", "7"], "unknown extension 7"),
        (
            [
                "plans",
                "add",
                "x",
                "--name",
                "X",
                "--currency",
                "USD",
                "--fee",
                "1",
                "--price",
                "minutes=1",
            ],
            "not METER=VALUE",
        ),
        (["owner", "change", "bot-1", "--to", "nobody"], "unknown user 'nobody'"),
        (["users", "add", "alice", "--role", "owner"], "already exists"),
        (["funds", "add", "bot-1", "1e999999"], "not a plain decimal"),
        (["funds", "add", "bot-1", "9" * 900_000], "at most 18 digits"),
    ],
    ids=lambda value: " ".join(value)[:40] if isinstance(value, list) else None,
)
def test_refusals_are_one_line_and_exit_2(
    db: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    before = run(capsys, "ledger", "--format", "json", "--db", db)[1]
    code, out, err = run(capsys, *argv, "--db", db)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith("billing-meter: error: ") and message in err, err
    assert run(capsys, "ledger", "--format", "json", "--db", db)[1] == before


@pytest.mark.parametrize(
    "argv",
    [["extension", "approve", str(2**64)], ["orders", "receipt", str(2**64)]],
    ids=["extension", "receipt"],
)
def test_ids_beyond_64_bits_are_a_usage_error(
    db: str, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, err = run(capsys, *argv, "--db", db)
    assert (code, out) == (2, "")
    assert "at most 18 digits" in err and "Traceback" not in err


def test_bad_store_and_clock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run(capsys, "balance", "--db", "mysql://x@y/z")
    assert code == 2 and "unsupported database" in err
    monkeypatch.setenv("BILLING_NOW", "yesterday")
    code, _, err = run(capsys, "balance", "--db", f"sqlite:///{tmp_path / 'c.db'}")
    assert code == 2 and "BILLING_NOW" in err
    code, out, _ = run(capsys, "db", "upgrade", "--db", f"sqlite:///{tmp_path / 'd.db'}")
    assert code == 0 and "newest schema" in out
