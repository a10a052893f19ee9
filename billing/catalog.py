"""Plans and their versions (BILLING-SPEC §2)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing.errors import InvalidError, NotFoundError
from billing.models import Plan
from billing.money import MoneyError, exponent, parse_amount, parse_price
from billing.rules import ENTERPRISE, METERS, PREPAID, Terms

_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


@dataclass(frozen=True, slots=True)
class PlanSpec:
    """A plan as a user writes it (decimal strings)."""

    code: str
    name: str
    currency: str
    fee: str
    included: Mapping[str, str]
    prices: Mapping[str, str]
    kind: str = PREPAID
    term_days: int | None = None


def parse_meters(text: str, what: str) -> dict[str, str]:
    """``billing_sessions=1000,agents=2`` as a mapping; ``InvalidError`` on unknown meters."""
    values: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        meter, sep, value = part.partition("=")
        if not sep or meter.strip() not in METERS:
            raise InvalidError(
                f"{what}: {part!r} is not METER=VALUE with METER in {', '.join(METERS)}"
            )
        values[meter.strip()] = value.strip()
    return values


MAX_INCLUDED_DIGITS = 12  # a trillion sessions a period: far beyond any plan, within int64


def _included(values: Mapping[str, str]) -> dict[str, int]:
    result: dict[str, int] = {}
    for meter in METERS:
        text = values.get(meter, "0")
        # ASCII digits (str.isdigit takes others), bounded: a quantity the databases store
        if not (text.isascii() and text.isdigit()) or len(text) > MAX_INCLUDED_DIGITS:
            raise InvalidError(
                f"included {meter} must be a whole number from 0 to "
                f"{10**MAX_INCLUDED_DIGITS - 1}, got {text[:32]!r}"
            )
        result[meter] = int(text)
    return result


def add_plan(session: Session, spec: PlanSpec, now_ms: int) -> Plan:
    """Add ``spec`` as the next version of its code (the first is version 1)."""
    if _CODE.fullmatch(spec.code) is None:
        raise InvalidError(f"plan code {spec.code!r} must be 1-64 of a-z, 0-9, _ and -")
    if spec.kind not in (PREPAID, ENTERPRISE):
        raise InvalidError(f"kind must be {PREPAID} or {ENTERPRISE}, got {spec.kind!r}")
    if spec.term_days is not None and not 1 <= spec.term_days <= 3660:
        raise InvalidError(f"term must be 1-3660 days, got {spec.term_days}")
    if not spec.name.strip():
        raise InvalidError("a plan needs a name")
    try:
        exponent(spec.currency)
        fee = parse_amount(spec.fee, spec.currency, positive=False)
        prices = {meter: parse_price(spec.prices.get(meter, "0")) for meter in METERS}
    except MoneyError as exc:
        raise InvalidError(str(exc)) from None
    included = _included(spec.included)
    latest = session.scalar(select(func.max(Plan.version)).where(Plan.code == spec.code))
    plan = Plan(
        code=spec.code,
        version=(latest or 0) + 1,
        name=spec.name.strip(),
        currency=spec.currency,
        kind=spec.kind,
        fee_minor=fee,
        term_days=spec.term_days,
        created_ms=now_ms,
        **{f"included_{meter}": included[meter] for meter in METERS},
        **{f"price_{meter}": prices[meter] for meter in METERS},
    )
    session.add(plan)
    session.flush()
    return plan


def latest_plan(session: Session, code: str) -> Plan:
    """The newest version of plan ``code``; ``NotFoundError`` if there is none."""
    plan = session.scalar(
        select(Plan).where(Plan.code == code).order_by(Plan.version.desc()).limit(1)
    )
    if plan is None:
        raise NotFoundError(f"unknown plan {code!r}")
    return plan


def terms(plan: Plan) -> Terms:
    """The pure rules' view of a plan version."""
    return Terms(
        currency=plan.currency,
        kind=plan.kind,
        fee_minor=plan.fee_minor,
        included={meter: getattr(plan, f"included_{meter}") for meter in METERS},
        price_micros={meter: getattr(plan, f"price_{meter}") for meter in METERS},
        term_days=plan.term_days,
    )


def all_plans(session: Session) -> list[Plan]:
    """Every version of every plan, by code then version."""
    return list(session.scalars(select(Plan).order_by(Plan.code, Plan.version)))
