"""Rule parameters from flags and environment."""

from __future__ import annotations

import argparse

import pytest

from pipeline.settings import config_from, parse_duration


@pytest.mark.parametrize(
    ("text", "ms"),
    [("15m", 900_000), ("900s", 900_000), ("24h", 86_400_000), ("1d", 86_400_000), ("250ms", 250)],
)
def test_durations(text: str, ms: int) -> None:
    assert parse_duration(text) == ms


@pytest.mark.parametrize("text", ["15", "0m", "-5m", "1.5h", "15 minutes"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="not a positive duration"):
        parse_duration(text)


def test_flag_beats_environment_beats_default() -> None:
    env = {"BILLING_SLICE": "10m", "BILLING_IDLE_TIMEOUT": "5m", "BILLING_VOICE_CHANNELS": "a, b"}
    cfg = config_from(argparse.Namespace(slice="20m", idle_timeout=None), env)
    assert (cfg.slice_ms, cfg.idle_timeout_ms) == (1_200_000, 300_000)
    assert cfg.voice_channels == frozenset({"a", "b"})
    assert config_from(None, {}).state_retention_ms == 86_400_000


@pytest.mark.parametrize("text", ["\u0661\u0665m", "+15m", "15M", "1h30m", "ms"])
def test_a_duration_is_ascii_digits_and_one_unit(text: str) -> None:
    """The one rule every duration setting follows."""
    with pytest.raises(ValueError, match="not a positive duration"):
        parse_duration(text)


def test_zero_only_where_allowed() -> None:
    assert parse_duration("0s", allow_zero=True) == 0
    with pytest.raises(ValueError, match="not a positive duration"):
        parse_duration("0s")
    with pytest.raises(ValueError, match="is not a duration like"):
        parse_duration("15", allow_zero=True)
