"""Plans and their versions (BILLING-SPEC §2)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing.errors import ConflictError, InvalidError, NotFoundError
from billing.models import Plan
from billing.money import (
    MoneyError,
    exponent,
    format_amount,
    format_price,
    parse_amount,
    parse_price,
)
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
    changes_to: str | None = None  # plan codes a bot may move to, "a,b" (None/"any": all)


@dataclass(frozen=True, slots=True)
class Revision:
    """What ``plans revise`` changes; None (or a meter left out) keeps the current value."""

    name: str | None = None
    fee: str | None = None
    included: Mapping[str, str] = field(default_factory=dict)
    prices: Mapping[str, str] = field(default_factory=dict)
    changes_to: str | None = None


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
    """Add plan ``spec`` (version 1); a code that exists is refused: ``revise`` changes it."""
    if session.scalar(select(Plan.id).where(Plan.code == spec.code).limit(1)) is not None:
        raise ConflictError(
            f"plan {spec.code!r} exists: change it with 'billing-meter plans revise {spec.code}'"
        )
    plan = _version(session, spec, now_ms)
    session.add(plan)
    session.flush()
    return plan


def revise_plan(session: Session, code: str, revision: Revision, now_ms: int) -> tuple[Plan, Plan]:
    """The next version of plan ``code``: its newest version with what ``revision`` gives
    changed; returns (that version, the new one)."""
    current = latest_plan(session, code)
    spec = replace(
        spec_of(current),
        name=current.name if revision.name is None else revision.name,
        fee=spec_of(current).fee if revision.fee is None else revision.fee,
        included={**spec_of(current).included, **revision.included},
        prices={**spec_of(current).prices, **revision.prices},
        changes_to=current.changes_to if revision.changes_to is None else revision.changes_to,
    )
    new = _version(session, spec, now_ms)
    session.add(new)
    session.flush()
    return current, new


def spec_of(plan: Plan) -> PlanSpec:
    """A stored version as the user would write it."""
    return PlanSpec(
        code=plan.code,
        name=plan.name,
        currency=plan.currency,
        fee=format_amount(plan.fee_minor, plan.currency),
        included={m: str(getattr(plan, f"included_{m}")) for m in METERS},
        prices={m: format_price(getattr(plan, f"price_{m}")) for m in METERS},
        kind=plan.kind,
        term_days=plan.term_days,
        changes_to=plan.changes_to,
    )


def _version(session: Session, spec: PlanSpec, now_ms: int) -> Plan:
    """The next version of ``spec.code`` as a row (not added), every field checked."""
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
    return Plan(
        code=spec.code,
        version=(latest or 0) + 1,
        name=spec.name.strip(),
        currency=spec.currency,
        kind=spec.kind,
        fee_minor=fee,
        term_days=spec.term_days,
        created_ms=now_ms,
        changes_to=_changes_to(session, spec.code, spec.changes_to),
        **{f"included_{meter}": included[meter] for meter in METERS},
        **{f"price_{meter}": prices[meter] for meter in METERS},
    )


def _changes_to(session: Session, code: str, text: str | None) -> str | None:
    """``a,b`` as stored (each an existing plan's code, or this one's); None for every plan
    of the kind and currency (no flag, empty, or ``any``)."""
    if text is None or text.strip() in ("", "any"):
        return None
    codes = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    known = set(session.scalars(select(Plan.code).where(Plan.code.in_(codes))))
    unknown = [c for c in codes if c not in known and c != code]
    if unknown:
        raise InvalidError(f"--changes-to: unknown plan {unknown[0][:64]!r}")
    return ",".join(codes)


def allowed_codes(plan: Plan) -> tuple[str, ...] | None:
    """The codes a bot on ``plan`` may move to (None: every plan of its kind and currency)."""
    return None if plan.changes_to is None else tuple(plan.changes_to.split(","))


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
