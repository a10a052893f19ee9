"""The settings of every command, built once here: the flag, else the environment, else
the default.

This is the only module that reads the process environment for settings (the stores'
default locations excepted: ``billing.db.default_url`` and
``sinks.clickhouse.urls.default_url`` resolve them where every entry point, tests
included, opens a store). Everything below receives values: the worker its
:class:`~agents.settings.WorkerSettings`, the rules a ``MeterConfig``, the money store
its policy (``BILLING_EXPIRING_DAYS``, :mod:`billing.policy`), finalize its
``InvoiceSettings``, the billing role its ``Webhook``, the web edge ``trust_proxy``.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Mapping
from typing import TypeVar

from agents.settings import WorkerSettings, parse_roles
from billing.delivery import Webhook, decode_secret
from billing.invoice_settings import InvoiceSettings, terms_days
from billing.rules import EXPIRING_DAYS, POST_EVERY_MS, check_post_every
from pipeline.settings import config_from, parse_duration
from sinks.clickhouse.urls import default_url

Number = TypeVar("Number", int, float)
Environ = Mapping[str, str]

_PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?", re.ASCII)  # a sign: "must be positive"
_YES = ("1", "true", "yes")


class SettingsError(ValueError):
    """A setting that is not valid (one line for the user)."""


def worker_settings(args: argparse.Namespace, environ: Environ = os.environ) -> WorkerSettings:
    """The settings of ``worker`` and ``produce``; ``SettingsError`` when one is not valid."""
    roles = parse_roles(getattr(args, "roles", None) or "meter,sink,web,billing")
    partitions = getattr(args, "partitions", None)
    if partitions is None:  # the flag, else the environment, else the default
        partitions = _env_number(environ, "BILLING_PARTITIONS", WorkerSettings().partitions, int)
    if partitions <= 0:
        raise SettingsError("--partitions must be positive")
    defaults = WorkerSettings()
    try:
        cfg = config_from(args, environ)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    return WorkerSettings(
        bootstrap=args.bootstrap or environ.get("KAFKA_BOOTSTRAP") or defaults.bootstrap,
        clickhouse_url=getattr(args, "clickhouse", None) or default_url(),
        roles=roles,
        web_host=getattr(args, "web_host", defaults.web_host),
        web_port=getattr(args, "web_port", defaults.web_port),
        api_token=environ.get("BILLING_API_TOKEN") or None,
        partitions=partitions,
        topic_prefix=args.topic_prefix or "",
        cfg=cfg,
        meter_batch=_env_number(environ, "BILLING_METER_BATCH", defaults.meter_batch, int),
        sink_batch=_env_number(environ, "BILLING_SINK_BATCH", defaults.sink_batch, int),
        batch_within_s=_env_number(environ, "BILLING_BATCH_WITHIN", defaults.batch_within_s, float),
        billing_db_url=getattr(args, "db", None) or None,
        max_hold_s=_duration_s(environ, "BILLING_MAX_HOLD", defaults.max_hold_s),
        held_limit=_env_number(environ, "BILLING_MAX_HELD", defaults.held_limit, int),
        posting_interval_s=_posting_interval(environ),
        expiring_days=expiring_days(environ),
        post_every_ms=post_every_ms(environ),
        invoices=invoice_settings(environ),
        log_level=(environ.get("BILLING_LOG_LEVEL") or defaults.log_level).upper(),
        secure_cookies=environ.get("BILLING_SECURE_COOKIES", "") in _YES,
        trust_proxy=environ.get("BILLING_TRUST_PROXY", "") in _YES,
        webhook=webhook(environ) if "billing" in roles else None,
    )


def expiring_days(environ: Environ = os.environ) -> tuple[int, ...]:
    """``BILLING_EXPIRING_DAYS`` (say ``7,3,1``, the default): days before ``ends_at`` to
    notify, each 1-365."""
    text = environ.get("BILLING_EXPIRING_DAYS", "").strip()
    if not text:
        return EXPIRING_DAYS
    try:
        days = tuple(sorted({int(part) for part in text.split(",") if part.strip()}, reverse=True))
    except ValueError:
        raise SettingsError(
            f"BILLING_EXPIRING_DAYS {text!r} is not a list of days like 7,3,1"
        ) from None
    if not days or not all(1 <= d <= 365 for d in days):
        raise SettingsError(f"BILLING_EXPIRING_DAYS {text!r}: each day count must be 1-365")
    return days


def invoice_settings(environ: Environ = os.environ) -> InvoiceSettings:
    """``BILLING_INVOICE_GRACE`` (a duration such as ``1h``, ``30m`` or ``0s``),
    ``BILLING_SELLER`` (the seller's lines, separated by ``|``; none: finalization waits)
    and ``BILLING_PAYMENT_TERMS_DAYS`` (whole days 0-365, default 30)."""
    defaults = InvoiceSettings()
    grace = environ.get("BILLING_INVOICE_GRACE", "").strip()
    seller = environ.get("BILLING_SELLER", "").strip()
    try:
        grace_ms = parse_duration(grace, allow_zero=True) if grace else defaults.grace_ms
    except ValueError as exc:
        raise SettingsError(f"BILLING_INVOICE_GRACE: {exc}") from None
    try:
        days = terms_days(environ.get("BILLING_PAYMENT_TERMS_DAYS", ""))
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    lines = tuple(part.strip() for part in seller.split("|") if part.strip())
    return InvoiceSettings(grace_ms=grace_ms, seller=lines, payment_terms_days=days)


def webhook(environ: Environ = os.environ) -> Webhook | None:
    """``BILLING_WEBHOOK_URL`` + ``BILLING_WEBHOOK_SECRET`` (``whsec_<base64>``), and the
    first retry delay ``BILLING_WEBHOOK_BACKOFF`` (seconds, default 5)."""
    url = environ.get("BILLING_WEBHOOK_URL", "").strip()
    if not url:
        return None
    secret = environ.get("BILLING_WEBHOOK_SECRET", "").strip()
    if not secret:
        raise SettingsError("BILLING_WEBHOOK_URL needs BILLING_WEBHOOK_SECRET (whsec_...)")
    backoff_s = _env_number(environ, "BILLING_WEBHOOK_BACKOFF", 5.0, float)
    try:
        return Webhook(url, decode_secret(secret), int(backoff_s * 1000))
    except ValueError as exc:
        raise SettingsError(str(exc)) from None


def _duration_s(environ: Environ, name: str, default: float) -> float:
    """A positive duration such as ``3s`` or ``500ms`` (:func:`parse_duration`), in s."""
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        return parse_duration(text) / 1000
    except ValueError as exc:
        raise SettingsError(f"{name}: {exc}") from None


def _posting_interval(environ: Environ) -> float:
    default = WorkerSettings().posting_interval_s
    seconds = _env_number(environ, "BILLING_POST_INTERVAL", default, float)
    if seconds > 30:
        raise SettingsError("BILLING_POST_INTERVAL must be at most 30 s (balances lag by <= 60 s)")
    return seconds


def post_every_ms(environ: Environ = os.environ) -> int:
    """``BILLING_POST_EVERY`` (default 1h): how often a running period's usage is posted to
    the ledger; at least ``BILLING_POST_INTERVAL``, at most 24h."""
    text = environ.get("BILLING_POST_EVERY", "").strip()
    try:
        every = parse_duration(text) if text else POST_EVERY_MS
        return check_post_every(every, int(_posting_interval(environ) * 1000))
    except ValueError as exc:
        message = str(exc)
        prefix = "" if message.startswith("BILLING_POST_EVERY") else "BILLING_POST_EVERY: "
        raise SettingsError(prefix + message) from None


def _env_number(environ: Environ, name: str, default: Number, kind: type[Number]) -> Number:
    """A positive number from the environment, else ``default``; raises ``SettingsError``."""
    text = environ.get(name, "").strip()
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
