"""Which plans a bot may move to (issue #23). A plan version may list them (``changes_to``);
without a list it allows every plan of its kind (prepaid or enterprise) and currency.
Moving between prepaid and enterprise is an admin's decision (the CLI acts as one); the
free trial is not offered again to a bot past it. The console lists only what the caller
may choose, and a change to anything else is refused (409) with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing.access import Actor
from billing.catalog import allowed_codes
from billing.errors import ConflictError
from billing.models import LedgerEntry, PeriodPlan, Plan, Subscription
from billing.rules import PREPAID


@dataclass(frozen=True, slots=True)
class Facts:
    """What the rule reads of a plan version."""

    code: str
    kind: str
    currency: str
    fee_minor: int
    term_days: int | None

    @classmethod
    def of(cls, plan: Plan) -> Facts:
        return cls(plan.code, plan.kind, plan.currency, plan.fee_minor, plan.term_days)

    @property
    def is_trial(self) -> bool:
        """A free trial: prepaid, no fee, a fixed term."""
        return self.kind == PREPAID and self.fee_minor == 0 and self.term_days is not None


def refusal(
    current: Facts,
    allowed: tuple[str, ...] | None,
    target: Facts,
    *,
    admin: bool,
    past_trial: bool,
) -> str | None:
    """Why a bot on ``current`` may not move to ``target`` (None: it may)."""
    if target.code == current.code:
        return f"the bot is already on {target.code}"
    if target.currency != current.currency:
        return f"{target.code} is in {target.currency}, the bot pays in {current.currency}"
    if target.kind != current.kind:  # the admin's own decision, whatever the plan lists
        return None if admin else "only an admin may move a bot between prepaid and enterprise"
    if allowed is not None and target.code not in allowed:
        return f"{current.code} allows moves to {', '.join(allowed) or 'no plan'} only"
    if target.is_trial and past_trial and not admin:
        return f"{target.code} is a free trial, and this bot is past its trial"
    return None


def past_trial(session: Session, subscription: Subscription) -> bool:
    """Whether a bot has had its trial: it paid a monthly fee or was on a free trial."""
    fees = select(func.count()).where(
        LedgerEntry.subscription_id == subscription.id, LedgerEntry.kind == "fee"
    )
    if session.scalar(fees):
        return True
    plans = session.scalars(
        select(Plan)
        .join(PeriodPlan, PeriodPlan.plan_id == Plan.id)
        .where(PeriodPlan.subscription_id == subscription.id)
    )
    return any(Facts.of(plan).is_trial for plan in plans)


def _why_not(
    session: Session, actor: Actor, subscription: Subscription, target: Plan
) -> str | None:
    current = session.get_one(Plan, subscription.plan_id)
    return refusal(
        Facts.of(current),
        allowed_codes(current),
        Facts.of(target),
        admin=actor.is_admin,
        past_trial=past_trial(session, subscription),
    )


def check_move(session: Session, actor: Actor, subscription: Subscription, target: Plan) -> None:
    """Refuse (409, with the reason) a move the caller may not make."""
    reason = _why_not(session, actor, subscription, target)
    if reason is not None:
        raise ConflictError(f"{subscription.app_id} cannot move to {target.code}: {reason}")


def options(session: Session, actor: Actor, subscription: Subscription) -> list[Plan]:
    """The newest version of each plan the caller may move the bot to, by code."""
    newest = select(Plan.code, func.max(Plan.version).label("version")).group_by(Plan.code)
    latest = newest.subquery()
    plans = session.scalars(
        select(Plan)
        .join(latest, (Plan.code == latest.c.code) & (Plan.version == latest.c.version))
        .order_by(Plan.code)
    )
    return [plan for plan in plans if _why_not(session, actor, subscription, plan) is None]
