"""The pure billing rules (BILLING-SPEC §2-5): charges, plan changes, status, notices.

The posting job, the commands and the views call these; none of them does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from billing.money import prorate, usage_charge
from billing.periods import DAY_MS, HOUR_MS, Period

METERS = ("billing_sessions", "voice_sessions", "agents")
PREPAID, ENTERPRISE = "prepaid", "enterprise"
EXPIRING_DAYS = (7, 3, 1)
POST_EVERY_MS = HOUR_MS  # BILLING_POST_EVERY: how often a running period's usage is posted

BalanceState = Literal["ok", "low", "depleted"]


@dataclass(frozen=True, slots=True)
class Terms:
    """What a plan version charges."""

    currency: str
    kind: str
    fee_minor: int
    included: Mapping[str, int] = field(default_factory=dict)
    price_micros: Mapping[str, int] = field(default_factory=dict)
    term_days: int | None = None


def charges(terms: Terms, quantities: Mapping[str, int]) -> dict[str, int]:
    """Each meter's charge for a period's quantities (minor units, rounded once per meter)."""
    return {
        meter: usage_charge(
            quantities.get(meter, 0),
            terms.included.get(meter, 0),
            terms.price_micros.get(meter, 0),
            terms.currency,
        )
        for meter in METERS
    }


def is_upgrade(current: Terms, new: Terms) -> bool:
    """An upgrade has a higher monthly fee: it takes effect at once (else it is scheduled).
    A move between prepaid and enterprise is never one: it waits for the next period, so a
    prepaid balance never pays part of a contract's fee and no period is half of each."""
    return new.kind == current.kind and new.fee_minor > current.fee_minor


def is_switch(current: Terms, new: Terms) -> bool:
    """A move between prepaid and enterprise (an admin's, at the next period start)."""
    return new.kind != current.kind


def upgrade_proration(current: Terms, new: Terms, period: Period, at_ms: int) -> int:
    """The fee difference for the rest of ``period`` after ``at_ms``, by seconds."""
    remaining_s = (period.end_ms - max(at_ms, period.start_ms)) // 1000
    return prorate(new.fee_minor - current.fee_minor, remaining_s, period.seconds)


def default_threshold(terms: Terms) -> int:
    """The low-balance threshold when none is set: 20% of the monthly fee."""
    return terms.fee_minor // 5


def balance_state(balance_minor: int, threshold_minor: int) -> BalanceState:
    """``depleted`` below zero, ``low`` below the threshold, else ``ok``."""
    if balance_minor < 0:
        return "depleted"
    if balance_minor < threshold_minor:
        return "low"
    return "ok"


def balance_notification(before: BalanceState, after: BalanceState) -> str | None:
    """The notification a change of balance state emits (one per occurrence)."""
    if before == after:
        return None
    if after == "depleted":
        return "balance.depleted"
    if after == "low" and before == "ok":
        return "balance.low"
    if after == "ok":
        return "balance.recovered"
    return None  # depleted -> low: still below the threshold, nothing new to say


def expiry_notice(
    ends_at_ms: int | None, now_ms: int, days: tuple[int, ...] = EXPIRING_DAYS
) -> tuple[str, int] | None:
    """``("plan.expired", 0)``, ``("plan.expiring", d)`` (nearest threshold passed), or None."""
    if ends_at_ms is None:
        return None
    if now_ms >= ends_at_ms:
        return ("plan.expired", 0)
    passed = [d for d in days if now_ms >= ends_at_ms - d * DAY_MS]
    return ("plan.expiring", min(passed)) if passed else None


@dataclass(frozen=True, slots=True)
class Standing:
    """A subscription's status and the reasons to show (the seed's information icon)."""

    status: str
    notices: tuple[str, ...]


def standing(
    *,
    kind: str,
    balance_minor: int,
    threshold_minor: int,
    ends_at_ms: int | None,
    now_ms: int,
    downgrade_scheduled: bool,
    expiring_days: int = max(EXPIRING_DAYS),
    starts_at_ms: int | None = None,
) -> Standing:
    """Status (the most urgent of expired, depleted, low, expiring, active) and all notices;
    ``scheduled`` before ``starts_at_ms``: nothing is charged yet, so no balance can be low."""
    if starts_at_ms is not None and now_ms < starts_at_ms:
        return Standing("scheduled", ("scheduled",))
    notices: list[str] = []
    if ends_at_ms is not None and now_ms >= ends_at_ms:
        notices.append("expired")
    elif ends_at_ms is not None and now_ms >= ends_at_ms - expiring_days * DAY_MS:
        notices.append("expiring")
    if kind == PREPAID:
        state = balance_state(balance_minor, threshold_minor)
        if state != "ok":
            notices.append(state)
    if downgrade_scheduled:
        notices.append("downgrade scheduled")
    order = ("expired", "depleted", "low", "expiring")
    status = next((s for s in order if s in notices), "active")
    return Standing(status, tuple(notices))


def has_started(starts_at_ms: int, now_ms: int) -> bool:
    """A subscription counts (fees, balance notices) from the midnight it starts."""
    return now_ms >= starts_at_ms


def chargeable_end(period: Period, ends_at_ms: int | None) -> int:
    """Where a period's chargeable usage stops: its end, or the plan's ``ends_at``."""
    return period.end_ms if ends_at_ms is None else min(period.end_ms, ends_at_ms)


MAX_POST_EVERY_MS = 24 * HOUR_MS


def check_post_every(every_ms: int, interval_ms: int) -> int:
    """``every_ms`` if it is a sane ``BILLING_POST_EVERY``: no shorter than the posting
    interval (entries cannot be written more often than usage is read), at most a day (a
    balance's posted part may not lag the ledger longer); ``ValueError`` otherwise."""
    if every_ms < interval_ms:
        raise ValueError(
            f"BILLING_POST_EVERY ({every_ms / 1000:g}s) must be at least the posting interval"
            f" BILLING_POST_INTERVAL ({interval_ms / 1000:g}s)"
        )
    if every_ms > MAX_POST_EVERY_MS:
        raise ValueError(f"BILLING_POST_EVERY ({every_ms / 1000:g}s) must be at most 24h")
    return every_ms


def usage_bucket(now_ms: int, every_ms: int) -> int:
    """The start of the posting bucket ``now_ms`` falls in (buckets from the epoch): a
    running period gets at most one usage entry per meter and bucket."""
    return now_ms - now_ms % every_ms
