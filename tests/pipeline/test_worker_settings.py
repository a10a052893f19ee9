"""A worker's settings: the flag, else the environment, else the default, for every one."""

from __future__ import annotations

import pytest

from agents.settings import WorkerSettings
from billing_meter.cli import build_parser
from billing_meter.settings import SettingsError, worker_settings


def settings_of(*argv: str) -> WorkerSettings:
    return worker_settings(build_parser().parse_args(["worker", *argv]))


def test_partitions_flag_beats_environment_beats_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BILLING_PARTITIONS", raising=False)
    assert settings_of().partitions == 6
    monkeypatch.setenv("BILLING_PARTITIONS", "4")
    assert settings_of().partitions == 4
    assert settings_of("--partitions", "8").partitions == 8


def test_max_hold_is_a_duration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BILLING_MAX_HOLD", "500ms")
    assert settings_of().max_hold_s == 0.5
    monkeypatch.setenv("BILLING_MAX_HOLD", "soon")
    with pytest.raises(SettingsError, match="BILLING_MAX_HOLD: 'soon' is not a positive duration"):
        settings_of()


def test_a_bad_partition_count_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BILLING_PARTITIONS", "many")
    with pytest.raises(SettingsError, match="BILLING_PARTITIONS"):
        settings_of()
    with pytest.raises(SettingsError, match="--partitions must be positive"):
        settings_of("--partitions", "0")
