"""Durations and channels of the session rules (SPEC table); every one configurable."""

from __future__ import annotations

from dataclasses import dataclass, field

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS


@dataclass(frozen=True, slots=True)
class MeterConfig:
    """Rule parameters, in milliseconds (SPEC table)."""

    slice_ms: int = 15 * MINUTE_MS
    idle_timeout_ms: int = 15 * MINUTE_MS
    alert_dedup_horizon_ms: int = 24 * HOUR_MS
    state_retention_ms: int = 24 * HOUR_MS
    voice_channels: frozenset[str] = field(default_factory=lambda: frozenset({"voice"}))

    def __post_init__(self) -> None:
        for name in ("slice_ms", "idle_timeout_ms", "alert_dedup_horizon_ms", "state_retention_ms"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")


def slice_index(elapsed_ms: int, slice_ms: int) -> int:
    """``k(t) = max(0, ceil(t / SLICE) - 1)``: slice 0 is [0, SLICE], slice 1 (SLICE, 2 SLICE]."""
    return max(0, -(-elapsed_ms // slice_ms) - 1)


QUARTER_MS = 15 * MINUTE_MS


def quarter_start(ms: int) -> int:
    """Start of the quarter-hour holding ``ms``: agents are reported per quarter-hour, the
    grain every real time zone's hours, days, weeks and months are made of."""
    return ms - ms % QUARTER_MS
