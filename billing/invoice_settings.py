"""The invoice settings of a deployment (read from the environment by
``billing_meter.settings``): the grace after a period's end, the seller printed on every
invoice and receipt, and the payment terms of enterprise invoices. Without a seller nothing
is finalized (an invoice must name who issues it)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from billing.periods import HOUR_MS

DEFAULT_TERMS_DAYS = 30
MAX_TERMS_DAYS = 365
SELLER_MISSING = "BILLING_SELLER is not set: due invoices stay drafts until it names the seller"


@dataclass(frozen=True, slots=True)
class InvoiceSettings:
    """Grace after a period's end, the seller's lines (none: finalization waits), and the
    days an enterprise invoice is due in."""

    grace_ms: int = HOUR_MS
    seller: tuple[str, ...] = ()
    payment_terms_days: int = DEFAULT_TERMS_DAYS

    @property
    def can_finalize(self) -> bool:
        """Whether invoices may be issued: they need a seller."""
        return bool(self.seller)


def terms_days(text: str) -> int:
    """``BILLING_PAYMENT_TERMS_DAYS``: whole days 0-365 (empty: 30)."""
    text = text.strip()
    if not text:
        return DEFAULT_TERMS_DAYS
    if not re.fullmatch(r"[0-9]{1,3}", text, flags=re.ASCII) or int(text) > MAX_TERMS_DAYS:
        raise ValueError(
            f"BILLING_PAYMENT_TERMS_DAYS {text[:32]!r} must be whole days from 0 to "
            f"{MAX_TERMS_DAYS}"
        )
    return int(text)
