"""Rule parameters from flags and environment variables (SPEC table: all configurable),
and the one duration parser every setting uses."""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping

from pipeline.core.config import MeterConfig

_DURATION = re.compile(r"([0-9]+)(ms|s|m|h|d)", re.ASCII)
_UNITS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
#: flag/attribute name, environment variable, MeterConfig field
DURATIONS = (
    ("slice", "BILLING_SLICE", "slice_ms"),
    ("idle_timeout", "BILLING_IDLE_TIMEOUT", "idle_timeout_ms"),
    ("alert_dedup_horizon", "BILLING_ALERT_DEDUP_HORIZON", "alert_dedup_horizon_ms"),
    ("state_retention", "BILLING_STATE_RETENTION", "state_retention_ms"),
)


def parse_duration(text: str, *, allow_zero: bool = False) -> int:
    """``15m``, ``900s``, ``24h``, ``1d``, ``250ms`` to milliseconds.

    The rule: ASCII digits, then a unit (``ms``, ``s``, ``m``, ``h`` or ``d``), nothing
    else: no sign, no fraction, no space, no bare number (is ``15`` seconds or minutes?).
    Positive, unless ``allow_zero`` (a grace period may be ``0s``).
    """
    match = _DURATION.fullmatch(text.strip())
    if match is None or (int(match.group(1)) == 0 and not allow_zero):
        kind = "a duration" if allow_zero else "a positive duration"
        raise ValueError(f"{text!r} is not {kind} like 15m, 900s, 24h or 250ms")
    return int(match.group(1)) * _UNITS[match.group(2)]


def add_rule_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--slice``, ``--idle-timeout``, ... (defaults from the environment, then SPEC)."""
    group = parser.add_argument_group("session rules (env BILLING_SLICE etc.)")
    for name, env, _ in DURATIONS:
        group.add_argument(
            f"--{name.replace('_', '-')}",
            dest=name,
            metavar="DURATION",
            help=f"default: ${env} or the SPEC default",
        )
    group.add_argument(
        "--voice-channels",
        metavar="LIST",
        help="comma-separated; default: $BILLING_VOICE_CHANNELS or voice",
    )


def config_from(
    args: argparse.Namespace | None = None, environ: Mapping[str, str] | None = None
) -> MeterConfig:
    """Build the config: flag, else environment variable, else default. Raises ``ValueError``.

    ``environ``: the environment the composition root read (none given: defaults only)."""
    environ = {} if environ is None else environ
    values: dict[str, object] = {}
    for name, env, field_name in DURATIONS:
        text = getattr(args, name, None) or environ.get(env)
        if text:
            try:
                values[field_name] = parse_duration(text)
            except ValueError as exc:
                raise ValueError(f"{name.replace('_', '-')}: {exc}") from None
    channels = getattr(args, "voice_channels", None) or environ.get("BILLING_VOICE_CHANNELS")
    if channels:
        values["voice_channels"] = frozenset(c.strip() for c in channels.split(",") if c.strip())
    return MeterConfig(**values)  # type: ignore[arg-type]
