"""How documents word dates, amounts and invoice lines (pure functions: no I/O).

Dates are calendar dates of the subscription's zone, written "Dec 7" and "Nov 1 (en dash) Nov 30,
2026" with an en dash; amounts carry their currency ("2,500.00 EUR"), and unit prices keep
at least the currency's minor-unit places ("0.10", "15.00") and any finer ones ("0.0125").
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from billing.money import PRICE_PLACES, exponent, format_amount

EN_DASH = "\u2013"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day(when: date) -> str:
    """``Dec 7`` (English whatever the process's locale)."""
    return f"{MONTHS[when.month - 1]} {when.day}"


def day_with_year(when: date) -> str:
    """``Dec 7, 2026``."""
    return f"{day(when)}, {when.year}"


def date_range(first: date, last: date) -> str:
    """An inclusive range: ``Nov 1 (en dash) Nov 30, 2026`` (both years when they differ)."""
    if first.year != last.year:
        return f"{day_with_year(first)} {EN_DASH} {day_with_year(last)}"
    return f"{day(first)} {EN_DASH} {day_with_year(last)}"


def proration_text(from_name: str, to_name: str, first: date, last: date, period_days: int) -> str:
    """``Upgrade from Basic to Starter, Dec 7 (en dash) Dec 31 (25 of 31 days)``: the days charged
    are ``first`` to ``last`` inclusive (the amount is the line's, not repeated here)."""
    days = (last - first).days + 1
    return (
        f"Upgrade from {from_name} to {to_name}, {day(first)} {EN_DASH} {day(last)} "
        f"({days} of {period_days} days)"
    )


def fee_text(plan_name: str) -> str:
    """``Basic monthly fee`` (the same words as the fee's ledger entry)."""
    return f"{plan_name} monthly fee"


def usage_text(meter_name: str, plan_name: str) -> str:
    """``Billing sessions (Starter)``: the meter and the plan whose prices charged it."""
    return f"{meter_name} ({plan_name})"


def grouped(minor: int, currency: str) -> str:
    """Minor units with thousands separators: 250000 EUR -> ``2,500.00``."""
    text = format_amount(minor, currency)
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, point, fraction = digits.partition(".")
    return f"{sign}{int(whole):,}{point}{fraction}"


def money(minor: int, currency: str) -> str:
    """``2,500.00 EUR``: every amount of a document, in the currency's minor unit."""
    return f"{grouped(minor, currency)} {currency}"


def unit_price(micros: int, currency: str) -> str:
    """A unit price with at least the currency's places: ``0.10``, ``15.00``, ``0.0125``."""
    value = Decimal(micros).scaleb(-PRICE_PLACES).normalize()
    exp = value.as_tuple().exponent
    places = max(exponent(currency), -exp if isinstance(exp, int) and exp < 0 else 0)
    text = f"{value:.{places}f}"
    whole, point, fraction = text.partition(".")
    return f"{int(whole):,}{point}{fraction}"
