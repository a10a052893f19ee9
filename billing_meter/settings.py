"""A worker's settings from its flags, else the environment, else the defaults."""

from __future__ import annotations

import argparse
import os
import re
from typing import TypeVar

from agents.settings import WorkerSettings, parse_roles
from billing.invoice_settings import InvoiceSettings
from billing.posting import parse_expiring_days
from pipeline.settings import config_from, parse_duration
from sinks.clickhouse.urls import default_url

Number = TypeVar("Number", int, float)


_PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?", re.ASCII)  # a sign: "must be positive"


class SettingsError(ValueError):
    """A setting that is not valid (one line for the user)."""


def worker_settings(args: argparse.Namespace) -> WorkerSettings:
    """The settings of ``worker`` and ``produce``; ``SettingsError`` when one is not valid."""
    roles = parse_roles(getattr(args, "roles", None) or "meter,sink,web,billing")
    try:  # checked before anything starts: a bad value is one line, not a later crash
        InvoiceSettings.from_env()
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    partitions = getattr(args, "partitions", None)
    if partitions is None:  # the flag, else the environment, else the default
        partitions = _env_number("BILLING_PARTITIONS", WorkerSettings().partitions, int)
    if partitions <= 0:
        raise SettingsError("--partitions must be positive")
    defaults = WorkerSettings()
    return WorkerSettings(
        bootstrap=args.bootstrap or os.environ.get("KAFKA_BOOTSTRAP") or "127.0.0.1:9092",
        clickhouse_url=getattr(args, "clickhouse", None) or default_url(),
        roles=roles,
        web_host=getattr(args, "web_host", "127.0.0.1"),
        web_port=getattr(args, "web_port", 6066),
        api_token=os.environ.get("BILLING_API_TOKEN") or None,
        partitions=partitions,
        topic_prefix=args.topic_prefix or "",
        cfg=config_from(args),
        meter_batch=_env_number("BILLING_METER_BATCH", defaults.meter_batch, int),
        sink_batch=_env_number("BILLING_SINK_BATCH", defaults.sink_batch, int),
        batch_within_s=_env_number("BILLING_BATCH_WITHIN", defaults.batch_within_s, float),
        billing_db_url=getattr(args, "db", None) or None,
        max_hold_s=_max_hold(defaults.max_hold_s),
        held_limit=_env_number("BILLING_MAX_HELD", defaults.held_limit, int),
        posting_interval_s=_posting_interval(),
        expiring_days=parse_expiring_days(os.environ.get("BILLING_EXPIRING_DAYS") or "7,3,1"),
    )


def _max_hold(default: float) -> float:
    """``BILLING_MAX_HOLD`` (SPEC 2b's ``MAX_HOLD``): a duration such as ``3s`` or ``500ms``."""
    text = os.environ.get("BILLING_MAX_HOLD", "").strip()
    if not text:
        return default
    try:
        return parse_duration(text) / 1000
    except ValueError as exc:
        raise SettingsError(f"BILLING_MAX_HOLD: {exc}") from None


def _posting_interval() -> float:
    seconds = _env_number("BILLING_POST_INTERVAL", WorkerSettings().posting_interval_s, float)
    if seconds > 30:
        raise SettingsError("BILLING_POST_INTERVAL must be at most 30 s (balances lag by <= 60 s)")
    return seconds


def _env_number(name: str, default: Number, kind: type[Number]) -> Number:
    """A positive number from the environment, else ``default``; raises ``SettingsError``."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    expected = "an integer" if kind is int else "a number"
    if not _PLAIN_NUMBER.fullmatch(text):  # no "1_000", no digits of other scripts
        raise SettingsError(f"{name}: {text!r} is not {expected}")
    try:
        value = kind(text)
    except ValueError:
        raise SettingsError(f"{name}: {text!r} is not {expected}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive, got {text}")
    return value
