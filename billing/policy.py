"""The billing policy a money store was opened with, read back by the rules that need it.

The composition root (``billing_meter.settings``) reads ``BILLING_EXPIRING_DAYS`` once and
opens the store with it (:func:`billing.db.open_store`); every session of that store
carries it in ``Session.info``, so a command, a request, a view, finalize and posting
all judge "expiring" alike without each taking a parameter. A session of a factory
opened without a policy (tests, tools) has the rules' default.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from billing.rules import EXPIRING_DAYS

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

_EXPIRING_DAYS = "billing.expiring_days"


def session_info(expiring_days: tuple[int, ...] = EXPIRING_DAYS) -> dict[str, object]:
    """What a store's sessions carry (``sessionmaker(info=...)``)."""
    return {_EXPIRING_DAYS: expiring_days}


def expiring_days(session: Session) -> tuple[int, ...]:
    """Days before ``ends_at`` to notify (``BILLING_EXPIRING_DAYS``), as the store was
    opened with, else the rules' default."""
    days = session.info.get(_EXPIRING_DAYS, EXPIRING_DAYS)
    return tuple(days)
