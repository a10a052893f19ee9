"""Issue #25 finding 6, one test per bug: every setting is read once, by the composition
root, and honoured everywhere below it."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from agents import settings as agent_settings
from billing_meter.cli import build_parser, main
from billing_meter.settings import SettingsError, invoice_settings, worker_settings
from pipeline.core import meter as core_meter


@pytest.fixture
def term_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """bot-1 on a 20-day term from 2026-11-01 (ends 11-21); "now" is 5.5 days before."""
    monkeypatch.setenv("BILLING_NOW", "2026-11-15T12:00:00Z")
    monkeypatch.delenv("BILLING_EXPIRING_DAYS", raising=False)
    url = f"sqlite:///{tmp_path / 'b.db'}"
    assert main(["users", "add", "alice", "--role", "owner", "--db", url]) == 0
    return url


def _subscribe_and_read(
    url: str, capsys: pytest.CaptureFixture[str]
) -> tuple[list[str], list[object]]:
    assert main(["plans", "add", "t20", "--name", "T20", "--currency", "USD", "--fee", "1.00",
                 "--term-days", "20", "--db", url]) == 0  # fmt: skip
    argv = ["subscribe", "bot-1", "--plan", "t20", "--owner", "alice", "--start", "2026-11-01"]
    assert main([*argv, "--db", url]) == 0
    capsys.readouterr()
    assert main(["balance", "--format", "json", "--db", url]) == 0
    [view] = orjson.loads(capsys.readouterr().out)
    assert main(["notifications", "--format", "json", "--db", url]) == 0
    notices = orjson.loads(capsys.readouterr().out)
    days = [n["data"].get("days") for n in notices if n["kind"] == "plan.expiring"]
    return list(view["notices"]), days


def test_the_default_warns_seven_days_ahead(
    term_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    notices, expiring = _subscribe_and_read(term_db, capsys)
    assert "expiring" in notices and expiring == [7]


def test_commands_and_views_honour_billing_expiring_days(
    term_db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Was: only the posting loop read it; ``subscribe`` and ``balance`` used 7,3,1."""
    monkeypatch.setenv("BILLING_EXPIRING_DAYS", "3,1")
    notices, expiring = _subscribe_and_read(term_db, capsys)
    assert "expiring" not in notices and expiring == []  # 5.5 days left: not yet


def test_a_bad_expiring_days_is_one_line_and_exit_2(
    term_db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BILLING_EXPIRING_DAYS", "7,400")
    capsys.readouterr()
    assert main(["balance", "--db", term_db]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "BILLING_EXPIRING_DAYS '7,400'" in err


def test_partitions_flag_beats_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Was: ``BILLING_PARTITIONS`` overrode ``--partitions``."""
    monkeypatch.setenv("BILLING_PARTITIONS", "3")
    args = build_parser().parse_args(["worker", "--partitions", "5"])
    assert worker_settings(args).partitions == 5


@pytest.mark.parametrize("text", ["90", "1.5h", "-1h", "1 h"])
def test_invoice_grace_follows_the_one_duration_rule(text: str) -> None:
    """Was: a second parser took bare numbers as seconds; now one rule for every duration."""
    with pytest.raises(SettingsError, match="BILLING_INVOICE_GRACE"):
        invoice_settings({"BILLING_INVOICE_GRACE": text})
    assert invoice_settings({"BILLING_INVOICE_GRACE": "0s"}).grace_ms == 0
    assert invoice_settings({"BILLING_INVOICE_GRACE": "90m"}).grace_ms == 5_400_000


def test_input_topics_are_defined_once() -> None:
    assert agent_settings.INPUT_TOPICS is core_meter.INPUT_TOPICS


def test_settings_come_from_the_environment_given_not_the_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Built once from one mapping: nothing below reads ``os.environ`` behind its back."""
    monkeypatch.setenv("BILLING_SLICE", "10m")
    monkeypatch.setenv("BILLING_EXPIRING_DAYS", "2")
    args = build_parser().parse_args(["worker"])
    given = {"BILLING_SLICE": "20m", "BILLING_SECURE_COOKIES": "1", "BILLING_LOG_LEVEL": "debug"}
    settings = worker_settings(args, given)
    assert settings.cfg.slice_ms == 1_200_000 and settings.expiring_days == (7, 3, 1)
    assert settings.secure_cookies and settings.log_level == "DEBUG"
