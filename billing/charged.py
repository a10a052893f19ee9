"""Which plan version charged each ledger entry, and how an upgrade's proration reads.

Entries made since migration 0007 record the plan version that charged them. Older rows
stay as they were written (the ledger is append-only), so their plan is derived from what
the store already holds: a proration's plans from its order (codes, and the versions when
the order names them; otherwise the versions current when it was placed); a period's fee
from the plan the period began on (the first upgrade's "from" plan, else the period's plan);
usage from the period's plan, which is what its charges were brought to.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.models import LedgerEntry, Order, Plan
from billing.periods import local_date, period_at
from billing.wording import proration_text


def plan_at(session: Session, code: str, at_ms: int) -> Plan | None:
    """The version of ``code`` current at ``at_ms`` (the oldest one if none was yet)."""
    versions = list(session.scalars(select(Plan).where(Plan.code == code).order_by(Plan.version)))
    current = [plan for plan in versions if plan.created_ms <= at_ms]
    found = current or versions
    return found[-1] if found else None


def _detail(session: Session, entry: LedgerEntry) -> tuple[dict[str, Any], int]:
    order = None if entry.order_id is None else session.get(Order, entry.order_id)
    if order is None:
        return {}, entry.created_ms
    detail = orjson.loads(order.detail)
    return (detail if isinstance(detail, dict) else {}), order.created_ms


def _named(session: Session, detail: dict[str, Any], side: str, at_ms: int) -> Plan | None:
    code, version = detail.get(side), detail.get(f"{side}_version")
    if not isinstance(code, str):
        return None
    if isinstance(version, int):
        exact = session.scalar(select(Plan).where(Plan.code == code, Plan.version == version))
        if exact is not None:
            return exact
    return plan_at(session, code, at_ms)


def upgrade_plans(session: Session, entry: LedgerEntry) -> tuple[Plan | None, Plan | None]:
    """The plans a proration entry moved between (from, to)."""
    detail, at_ms = _detail(session, entry)
    to_plan = session.get(Plan, entry.plan_id) if entry.plan_id is not None else None
    return _named(session, detail, "from", at_ms), to_plan or _named(session, detail, "to", at_ms)


def _first_upgrade_from(session: Session, entry: LedgerEntry) -> Plan | None:
    first = session.scalar(
        select(LedgerEntry)
        .where(
            LedgerEntry.subscription_id == entry.subscription_id,
            LedgerEntry.period_start_ms == entry.period_start_ms,
            LedgerEntry.kind == "proration",
        )
        .order_by(LedgerEntry.id)
        .limit(1)
    )
    return None if first is None else upgrade_plans(session, first)[0]


def charged_plan(session: Session, entry: LedgerEntry, period_plan: Plan) -> Plan:
    """The plan version that charged ``entry`` (``period_plan``: its period's plan now)."""
    if entry.plan_id is not None:
        return session.get_one(Plan, entry.plan_id)
    if entry.kind == "proration":
        return upgrade_plans(session, entry)[1] or period_plan
    if entry.kind == "fee":
        return _first_upgrade_from(session, entry) or period_plan
    return period_plan


def upgrade_words(from_name: str, to_name: str, at_ms: int, tz: str) -> str:
    """``Upgrade from Basic to Starter, Dec 7 (en dash) Dec 31 (25 of 31 days)``: an upgrade at
    ``at_ms`` charges the rest of the period holding it (the days in the zone ``tz``)."""
    period = period_at(at_ms, tz)
    first = local_date(max(at_ms, period.start_ms), tz)
    last = local_date(period.end_ms - 1, tz)
    period_days = (last - local_date(period.start_ms, tz)).days + 1
    return proration_text(from_name, to_name, first, last, period_days)


def proration_description(session: Session, entry: LedgerEntry, tz: str) -> str:
    """A proration entry's line, worded from its plans and its order's time (entries made
    before 0007 were worded with codes and an arrow; the invoice words them like new ones)."""
    from_plan, to_plan = upgrade_plans(session, entry)
    _, at_ms = _detail(session, entry)
    return upgrade_words(
        from_plan.name if from_plan else "the previous plan",
        to_plan.name if to_plan else "the new plan",
        at_ms,
        tz,
    )
