"""The settings of a worker: values only (``billing_meter.settings`` builds them once,
from the flags, else the environment, else these defaults, and passes them down)."""

from __future__ import annotations

from dataclasses import dataclass, field

from billing import delivery
from billing.finalize import InvoiceSettings
from billing.rules import EXPIRING_DAYS
from pipeline.core.config import MeterConfig
from pipeline.core.meter import INPUT_TOPICS as INPUT_TOPICS  # noqa: PLC0414 - re-exported, defined once
from schemas import (
    agent_activity,
    billing_session,
    conversation_summary,
    dead_letter,
)

ROLES = ("meter", "sink", "web", "billing")
NOTIFICATION_TOPIC = delivery.TOPIC
OUTPUT_TOPICS = (
    billing_session.TOPIC,
    agent_activity.TOPIC,
    conversation_summary.TOPIC,
    dead_letter.TOPIC,
)


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """Everything a worker needs. ``topic_prefix`` isolates tests (and tenants) from each other."""

    bootstrap: str = "127.0.0.1:9092"
    clickhouse_url: str = ""
    roles: frozenset[str] = frozenset(ROLES)
    web_host: str = "127.0.0.1"
    web_port: int = 6066
    api_token: str | None = field(default=None, repr=False)  # BILLING_API_TOKEN (a secret)
    partitions: int = 6
    topic_prefix: str = ""
    cfg: MeterConfig = field(default_factory=MeterConfig)
    meter_batch: int = 20_000  # records per poll (one transaction per owned partition)
    sink_batch: int = 20_000
    batch_within_s: float = 0.2  # how long a poll waits for records
    max_hold_s: float = 3.0  # BILLING_MAX_HOLD: how long a record may wait for the other topic
    held_limit: int = 20_000  # BILLING_MAX_HELD: records a topic's merge queue holds, then pause
    sweep_interval_s: float = 30.0
    billing_db_url: str | None = None  # --db / BILLING_DB_URL, else ./billing-data/billing.db
    posting_interval_s: float = 15.0  # BILLING_POST_INTERVAL: at most 30 s (BILLING-SPEC §3)
    expiring_days: tuple[int, ...] = EXPIRING_DAYS  # BILLING_EXPIRING_DAYS
    post_every_ms: int = 3_600_000  # BILLING_POST_EVERY: a running period's usage, hourly
    invoices: InvoiceSettings = field(default_factory=InvoiceSettings)  # BILLING_INVOICE_GRACE..
    log_level: str = "INFO"  # BILLING_LOG_LEVEL
    secure_cookies: bool = False  # BILLING_SECURE_COOKIES: the console is served over HTTPS
    trust_proxy: bool = False  # BILLING_TRUST_PROXY: a reverse proxy sets X-Forwarded-Host
    webhook: delivery.Webhook | None = field(default=None, repr=False)  # BILLING_WEBHOOK_*

    def topic(self, name: str) -> str:
        """The full name of a topic."""
        return f"{self.topic_prefix}{name}"

    def group(self, role: str) -> str:
        """The consumer group of a role (the meter's also names its transactional ids)."""
        return (
            f"{self.topic_prefix}billing-meter"
            if role == "meter"
            else (f"{self.topic_prefix}billing-meter-{role}")
        )


def parse_roles(text: str) -> frozenset[str]:
    """``meter,sink,web`` to a set; raises ``ValueError`` naming an unknown role."""
    roles = frozenset(part.strip() for part in text.split(",") if part.strip())
    unknown = sorted(roles - set(ROLES))
    if unknown or not roles:
        raise ValueError(f"--roles: {', '.join(unknown) or 'none'} not in {', '.join(ROLES)}")
    return roles
