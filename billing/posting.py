"""The posting job (``billing`` worker role, ``billing-meter ledger post``).

For each subscription it reads the period quantities from ClickHouse (outside any
database transaction: the query may take a while), then, with the subscription's row
locked, opens the periods that have begun, debits the growth of each period's usage
charges (a running period at most once per meter and ``every_ms`` bucket, an hour by
default; the rest is kept as the live balance's accrual) and emits what changed. Every
entry's key names what it is for, so a retry, a crash half way or a second posting process
changes nothing that was already posted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from billing import accrual
from billing.models import Subscription
from billing.periods import period_at
from billing.rules import POST_EVERY_MS, chargeable_end

PeriodQuantities = dict[int, dict[str, int]]


class UsageSource(Protocol):
    """Where quantities come from: per month of ``tz`` within ``[start_ms, end_ms)``."""

    def period_quantities(
        self, app_id: str, start_ms: int, end_ms: int, tz: str
    ) -> PeriodQuantities: ...


@dataclass(frozen=True, slots=True)
class PostingResult:
    """What one pass did."""

    subscriptions: int
    entries: int


def query_window(subscription: Subscription, now_ms: int) -> tuple[int, int]:
    """The chargeable usage of a subscription: from its start to the end of the current
    period, or to its ``ends_at`` (usage after expiry is metered, not charged)."""
    current = period_at(now_ms, subscription.time_zone)
    return subscription.start_ms, chargeable_end(current, subscription.ends_at_ms)


def post_once(
    sessions: sessionmaker[Session],
    source: UsageSource,
    now_ms: int,
    expiring_days: tuple[int, ...] | None = None,
    every_ms: int = POST_EVERY_MS,
) -> PostingResult:
    """One pass over every subscription."""
    with sessions() as session:
        subscriptions = list(session.scalars(select(Subscription).order_by(Subscription.id)))
    entries = 0
    for subscription in subscriptions:
        start_ms, end_ms = query_window(subscription, now_ms)
        quantities: Mapping[int, Mapping[str, int]] = {}
        if end_ms > start_ms and start_ms <= now_ms:
            quantities = source.period_quantities(
                subscription.app_id, start_ms, end_ms, subscription.time_zone
            )
        entries += post_subscription(
            sessions, subscription.app_id, quantities, now_ms, expiring_days, every_ms=every_ms
        )
    return PostingResult(len(subscriptions), entries)


def post_subscription(
    sessions: sessionmaker[Session],
    app_id: str,
    quantities: Mapping[int, Mapping[str, int]],
    now_ms: int,
    expiring_days: tuple[int, ...] | None = None,
    *,
    every_ms: int = POST_EVERY_MS,
) -> int:
    """Roll, post and refresh one subscription in one transaction; returns entries added."""
    with sessions.begin() as session:
        subscription = session.scalar(
            select(Subscription).where(Subscription.app_id == app_id).with_for_update()
        )
        if subscription is None:
            return 0
        accrual.roll(session, subscription, now_ms)
        added = accrual.post_usage(session, subscription, quantities, now_ms, every_ms)
        accrual.refresh_standing(session, subscription, now_ms, expiring_days)
        return added


class StoreRows(Protocol):
    """The part of the ClickHouse store the usage source reads (its report rows)."""

    def usage_rows(
        self, *, by: str, start_ms: int, end_ms: int, app_id: str | None, sum_apps: bool, tz: str
    ) -> list[tuple[object, ...]]: ...


class ReportUsage:
    """``UsageSource`` over the usage report's rows: months of the zone, exact in any
    zone (quarter-hour counts and agent masks, see ``sinks.clickhouse.queries``)."""

    def __init__(self, store: StoreRows) -> None:
        self._store = store

    def period_quantities(
        self, app_id: str, start_ms: int, end_ms: int, tz: str
    ) -> PeriodQuantities:
        rows = self._store.usage_rows(
            by="month", start_ms=start_ms, end_ms=end_ms, app_id=app_id, sum_apps=False, tz=tz
        )
        result: PeriodQuantities = {}
        for period, _app, usage, voice, alert, agents in rows:
            start = period_at(_epoch_ms(period), tz).start_ms
            result[start] = {
                "billing_sessions": int(usage) + int(alert),  # type: ignore[call-overload]
                "voice_sessions": int(voice),  # type: ignore[call-overload]
                "agents": int(agents),  # type: ignore[call-overload]
            }
        return result


def _epoch_ms(moment: object) -> int:
    """A period start from the store (a ``datetime``; naive ones are UTC) as epoch ms."""
    if not isinstance(moment, datetime):
        raise TypeError(f"a period start is a datetime, got {moment!r}")
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return int(aware.timestamp() * 1000)
