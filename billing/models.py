"""The money store's tables (SQLAlchemy 2). Instants are epoch milliseconds (UTC).

Amounts are integers in the currency's minor unit; unit prices are micro-units. The
ledger is append-only and enforced by triggers (see the migrations), not by these classes.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of the billing tables."""


class User(Base):
    """Someone with an API key (stored as its SHA-256) and a role. A key may expire; a
    revoked user's key no longer works; rotating replaces the key."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    key_expires_ms: Mapped[int | None] = mapped_column(BigInteger, default=None)
    revoked_ms: Mapped[int | None] = mapped_column(BigInteger, default=None)
    operator: Mapped[bool] = mapped_column(default=False)  # platform operator: every account


class Account(Base):
    """A workspace: its apps, its users (memberships) and its billing profile ("Bill to")."""

    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    legal_name: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(Text, default="")  # lines separated by newlines
    tax_id: Mapped[str] = mapped_column(String(64), default="")
    billing_email: Mapped[str] = mapped_column(String(254), default="")
    country: Mapped[str] = mapped_column(String(64), default="")
    created_ms: Mapped[int] = mapped_column(BigInteger)


class Membership(Base):
    """A user's role in an account (admin, owner or member)."""

    __tablename__ = "memberships"
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))


class AppAccount(Base):
    """Which account an app belongs to (an app seen only in events belongs to none)."""

    __tablename__ = "app_accounts"
    app_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    placed_ms: Mapped[int] = mapped_column(BigInteger)


class Plan(Base):
    """One version of a plan: editing a plan adds a version."""

    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("code", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(16))
    fee_minor: Mapped[int] = mapped_column(BigInteger)
    term_days: Mapped[int | None]
    included_billing_sessions: Mapped[int] = mapped_column(BigInteger)
    included_voice_sessions: Mapped[int] = mapped_column(BigInteger)
    included_agents: Mapped[int] = mapped_column(BigInteger)
    price_billing_sessions: Mapped[int] = mapped_column(BigInteger)
    price_voice_sessions: Mapped[int] = mapped_column(BigInteger)
    price_agents: Mapped[int] = mapped_column(BigInteger)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    # the plan codes a bot on this version may move to, comma-separated (None: every plan
    # of its kind and currency)
    changes_to: Mapped[str | None] = mapped_column(Text, default=None)


class Subscription(Base):
    """An app's (a bot's) one subscription."""

    __tablename__ = "subscriptions"
    id: Mapped[int] = mapped_column(primary_key=True)
    app_id: Mapped[str] = mapped_column(String(256), unique=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    start_ms: Mapped[int] = mapped_column(BigInteger)
    time_zone: Mapped[str] = mapped_column(String(64))
    low_balance_minor: Mapped[int | None] = mapped_column(BigInteger)
    ends_at_ms: Mapped[int | None] = mapped_column(BigInteger)
    pending_plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"))
    balance_state: Mapped[str] = mapped_column(String(16), default="ok")
    created_ms: Mapped[int] = mapped_column(BigInteger)
    account_id: Mapped[int | None] = mapped_column(default=None)  # = its app's account
    # The sum of its ledger entries and the newest entry folded in: written only by the
    # database, on each ledger insert (migration 0009's triggers refuse any other change).
    balance_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    balance_entry_id: Mapped[int] = mapped_column(default=0)
    # A cache, not money: usage charges accrued since the last posted usage entry.
    pending_usage_minor: Mapped[int] = mapped_column(BigInteger, default=0)


class PeriodPlan(Base):
    """The plan version in effect for one period (an upgrade replaces the current one's)."""

    __tablename__ = "period_plans"
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"), primary_key=True)
    period_start_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    period_end_ms: Mapped[int] = mapped_column(BigInteger)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))


class PeriodUsage(Base):
    """The quantities last read from ClickHouse for one period (what was charged for)."""

    __tablename__ = "period_usage"
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"), primary_key=True)
    period_start_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    billing_sessions: Mapped[int] = mapped_column(BigInteger, default=0)
    voice_sessions: Mapped[int] = mapped_column(BigInteger, default=0)
    agents: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_ms: Mapped[int] = mapped_column(BigInteger)


class LedgerEntry(Base):
    """One change of a balance. Append-only (database triggers)."""

    __tablename__ = "ledger_entries"
    __table_args__ = (Index("ledger_by_period", "subscription_id", "period_start_ms", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    app_id: Mapped[str] = mapped_column(String(256), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    period_start_ms: Mapped[int | None] = mapped_column(BigInteger)
    meter: Mapped[str | None] = mapped_column(String(32))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    reason: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(300), unique=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    # the plan version that charged it (None on entries made before migration 0007)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"), default=None)


class Order(Base):
    """A top-up, plan change or extension: what was asked, by whom, when, and its status."""

    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    app_id: Mapped[str] = mapped_column(String(256), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    detail: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(128))
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)


class Extension(Base):
    """A request to move a term plan's end."""

    __tablename__ = "extensions"
    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    days: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str] = mapped_column(String(128))
    decided_by: Mapped[str | None] = mapped_column(String(128))
    created_ms: Mapped[int] = mapped_column(BigInteger)
    decided_ms: Mapped[int | None] = mapped_column(BigInteger)


class OwnerChange(Base):
    """The audit trail of bot owners."""

    __tablename__ = "owner_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    from_user: Mapped[str] = mapped_column(String(128))
    to_user: Mapped[str] = mapped_column(String(128))
    changed_by: Mapped[str] = mapped_column(String(128))
    changed_ms: Mapped[int] = mapped_column(BigInteger)


class Notification(Base):
    """One occurrence of something to tell (BILLING-SPEC §5); ``key`` makes it once."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    app_id: Mapped[str] = mapped_column(String(256), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    published_ms: Mapped[int | None] = mapped_column(BigInteger, index=True)


class WebhookDelivery(Base):
    """The webhook outbox: one row per notification, retried with backoff until delivered."""

    __tablename__ = "webhook_deliveries"
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), primary_key=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    delivered_ms: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(Text)


class WebhookEndpoint(Base):
    """An account's webhook endpoint and its signing secret(s) (``whsec_`` + base64)."""

    __tablename__ = "webhook_endpoints"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(200))
    previous_secret: Mapped[str | None] = mapped_column(String(200), default=None)
    previous_until_ms: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    removed_ms: Mapped[int | None] = mapped_column(BigInteger, default=None)


class EndpointDelivery(Base):
    """The outbox of account endpoints: a notification to one endpoint, retried until 2xx."""

    __tablename__ = "endpoint_deliveries"
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"), primary_key=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    delivered_ms: Mapped[int | None] = mapped_column(BigInteger, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)


class Invoice(Base):
    """A subscription's invoice for one period: a draft while it runs, then finalized with a
    gapless number, its lines and its PDF. Finalized rows are immutable (triggers)."""

    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("subscription_id", "period_start_ms"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    app_id: Mapped[str] = mapped_column(String(256), index=True)
    period_start_ms: Mapped[int] = mapped_column(BigInteger)
    period_end_ms: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    total_minor: Mapped[int | None] = mapped_column(BigInteger)
    finalized_ms: Mapped[int | None] = mapped_column(BigInteger)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    created_ms: Mapped[int] = mapped_column(BigInteger)


class InvoiceLine(Base):
    """One line of a finalized invoice (drafts compute theirs when shown)."""

    __tablename__ = "invoice_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    meter: Mapped[str | None] = mapped_column(String(32))
    period_start_ms: Mapped[int | None] = mapped_column(BigInteger)
    quantity: Mapped[int | None] = mapped_column(BigInteger)
    included: Mapped[int | None] = mapped_column(BigInteger)
    overage: Mapped[int | None] = mapped_column(BigInteger)
    unit_price_micros: Mapped[int | None] = mapped_column(BigInteger)
    amount_minor: Mapped[int] = mapped_column(BigInteger)


class InvoicedEntry(Base):
    """Which invoice a ledger entry was billed on (each entry on at most one)."""

    __tablename__ = "invoiced_entries"
    ledger_entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)


class InvoiceCounter(Base):
    """The last invoice number of a year: numbers are gapless. ``account`` is always
    ``"seller"`` (one sequence for the deployment); per-account rows were merged by 0004."""

    __tablename__ = "invoice_counters"
    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int]


class WebSession(Base):
    """A signed-in browser: the cookie holds a random id, the store its SHA-256.
    ``credential_hash`` is the SHA-256 of the key (or ``BILLING_API_TOKEN``) it was opened
    with: once that key is rotated or the token changes, the session no longer works."""

    __tablename__ = "web_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    created_ms: Mapped[int] = mapped_column(BigInteger)
    expires_ms: Mapped[int] = mapped_column(BigInteger)
    credential_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    account_id: Mapped[int | None] = mapped_column(default=None)  # the account acted in
