"""The invoice settings of a deployment, from its environment: the grace after a period's
end, the seller printed on every invoice and receipt, and the payment terms of enterprise
invoices. Without a seller nothing is finalized (an invoice must name who issues it)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

HOUR_MS = 3_600_000
UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": HOUR_MS, "d": 24 * HOUR_MS}
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

    @classmethod
    def from_env(cls) -> InvoiceSettings:
        """``BILLING_INVOICE_GRACE`` (``1h``, ``30m``, ``0s``), ``BILLING_SELLER`` (the
        seller's lines, separated by ``|``) and ``BILLING_PAYMENT_TERMS_DAYS`` (0-365,
        default 30); ``ValueError`` naming the setting when one is not valid."""
        grace = os.environ.get("BILLING_INVOICE_GRACE", "").strip()
        seller = os.environ.get("BILLING_SELLER", "")
        return cls(
            grace_ms=duration_ms(grace) if grace else HOUR_MS,
            seller=tuple(part.strip() for part in seller.split("|") if part.strip()),
            payment_terms_days=terms_days(os.environ.get("BILLING_PAYMENT_TERMS_DAYS", "")),
        )


def duration_ms(text: str) -> int:
    """``90s``, ``15m``, ``1h``, ``2d`` (or plain seconds) in ms; ``ValueError`` otherwise."""
    match = re.fullmatch(r"(\d+)(ms|s|m|h|d)?", text.strip(), flags=re.ASCII)
    if match is None:
        raise ValueError(f"BILLING_INVOICE_GRACE {text!r} is not a duration like 1h, 30m or 0s")
    return int(match.group(1)) * UNITS_MS[match.group(2) or "s"]


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
