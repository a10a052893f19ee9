"""``BILLING_POST_EVERY``: how often a running period's usage is written to the ledger."""

from __future__ import annotations

from pathlib import Path

import pytest

from billing.periods import HOUR_MS
from billing.rules import check_post_every, usage_bucket
from billing_meter.cli import build_parser, main
from billing_meter.settings import SettingsError, worker_settings


def post_every_setting() -> int:
    return worker_settings(build_parser().parse_args(["worker"])).post_every_ms


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BILLING_POST_EVERY", "BILLING_POST_INTERVAL"):
        monkeypatch.delenv(name, raising=False)


def test_default_is_an_hour_and_a_duration_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    assert post_every_setting() == HOUR_MS
    monkeypatch.setenv("BILLING_POST_EVERY", "15m")
    assert post_every_setting() == 15 * 60_000
    monkeypatch.setenv("BILLING_POST_EVERY", "24h")
    assert post_every_setting() == 24 * HOUR_MS


@pytest.mark.parametrize(
    ("every", "interval", "message"),
    [
        ("soon", None, "BILLING_POST_EVERY: 'soon' is not a positive duration"),
        ("0s", None, "BILLING_POST_EVERY: '0s' is not a positive duration"),
        ("-1h", None, "is not a positive duration"),
        ("10s", None, r"BILLING_POST_EVERY \(10s\) must be at least the posting interval"),
        ("20s", "25", r"at least the posting interval BILLING_POST_INTERVAL \(25s\)"),
        ("25h", None, r"BILLING_POST_EVERY \(90000s\) must be at most 24h"),
    ],
)
def test_nonsense_is_a_settings_error(
    monkeypatch: pytest.MonkeyPatch, every: str, interval: str | None, message: str
) -> None:
    monkeypatch.setenv("BILLING_POST_EVERY", every)
    if interval is not None:
        monkeypatch.setenv("BILLING_POST_INTERVAL", interval)
    with pytest.raises(SettingsError, match=message):
        post_every_setting()


def test_the_bounds_are_inclusive() -> None:
    assert check_post_every(15_000, 15_000) == 15_000
    assert check_post_every(24 * HOUR_MS, 15_000) == 24 * HOUR_MS
    with pytest.raises(ValueError, match="at least"):
        check_post_every(14_999, 15_000)
    with pytest.raises(ValueError, match="at most 24h"):
        check_post_every(24 * HOUR_MS + 1, 15_000)


def test_buckets_tile_time() -> None:
    assert usage_bucket(HOUR_MS - 1, HOUR_MS) == 0
    assert usage_bucket(HOUR_MS, HOUR_MS) == HOUR_MS
    assert usage_bucket(5 * HOUR_MS + 7, HOUR_MS) == 5 * HOUR_MS


def test_ledger_post_refuses_a_bad_setting_before_touching_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BILLING_POST_EVERY", "2d")
    db = tmp_path / "never.db"
    capsys.readouterr()
    code = main(["ledger", "post", "--db", f"sqlite:///{db}"])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "BILLING_POST_EVERY" in err and "at most 24h" in err, err
    assert not db.exists()  # nothing opened, nothing written
