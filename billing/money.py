"""Exact money (BILLING-SPEC §1): integer minor units, decimal strings at the edges.

Unit prices have up to 6 decimal places and are held as integer micro-units of the
currency's major unit. A charge is rounded half-to-even to the minor unit once, on the
total it belongs to. No float ever holds money.
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

# ISO 4217 minor-unit exponents of the currencies a plan may use.
EXPONENTS: dict[str, int] = {
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "INR": 2,
    "AUD": 2,
    "CAD": 2,
    "CHF": 2,
    "CNY": 2,
    "SGD": 2,
    "NZD": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "BRL": 2,
    "MXN": 2,
    "ZAR": 2,
    "HKD": 2,
    "NPR": 2,
    "AED": 2,
    "JPY": 0,
    "KRW": 0,
    "CLP": 0,
    "VND": 0,
    "ISK": 0,
    "BHD": 3,
    "KWD": 3,
    "OMR": 3,
    "JOD": 3,
    "TND": 3,
}
PRICE_PLACES = 6
MAX_MINOR = 10**15  # any amount fits a signed 64-bit column with room for sums
MICROS = 10**PRICE_PLACES
MAX_DIGITS = 18  # what a signed 64-bit column holds
# Plain ASCII decimals only: no exponent, no "_", no other scripts' digits. The length is
# checked before the pattern and before any arithmetic, so a hostile string costs microseconds.
_PLAIN = re.compile(r"-?(?P<int>[0-9]+)(?:\.(?P<frac>[0-9]+))?")
_MAX_TEXT = MAX_DIGITS + 2  # digits, sign, point


class MoneyError(ValueError):
    """An amount, price or currency that is not valid."""


def exponent(currency: str) -> int:
    """Minor-unit exponent of ``currency``; ``MoneyError`` if unknown."""
    try:
        return EXPONENTS[currency]
    except KeyError:
        known = ", ".join(sorted(EXPONENTS))
        raise MoneyError(f"unknown currency {currency!r} (one of {known})") from None


def plain_decimal(text: object, what: str) -> Decimal:
    """``text`` as a Decimal when it is a plain decimal of at most 18 digits; ``MoneyError``
    otherwise (bounded work: the length first, then one anchored pattern)."""
    if not isinstance(text, str) or len(text) > _MAX_TEXT:
        raise MoneyError(f"{what} must be a plain decimal of at most {MAX_DIGITS} digits")
    match = _PLAIN.fullmatch(text)  # no stripping: "\u00a010.00" is not a plain decimal
    if match is None:
        raise MoneyError(f"{what} {text!r} is not a plain decimal number such as 12.34")
    if len(match["int"]) + len(match["frac"] or "") > MAX_DIGITS:
        raise MoneyError(f"{what} must be a plain decimal of at most {MAX_DIGITS} digits")
    return Decimal(match[0])


def _places(value: Decimal) -> int:
    exp = value.normalize().as_tuple().exponent
    return max(0, -exp) if isinstance(exp, int) else 0


def parse_amount(text: str, currency: str, *, positive: bool = True) -> int:
    """``"12.34"`` in ``currency`` as minor units (1234). Refuses more places than it has."""
    places = exponent(currency)
    value = plain_decimal(text, "amount")
    if _places(value) > places:
        raise MoneyError(f"amount {text} has more than {places} decimal places for {currency}")
    if positive and value <= 0:
        raise MoneyError(f"amount must be positive, got {text}")
    if value < 0:
        raise MoneyError(f"amount must not be negative, got {text}")
    minor = int(value.scaleb(places))
    if minor > MAX_MINOR:
        raise MoneyError(f"amount {text} is too large")
    return minor


def format_amount(minor: int, currency: str) -> str:
    """Minor units as a decimal string: 1234 USD -> ``"12.34"``, -5 -> ``"-0.05"``."""
    places = exponent(currency)
    return str(Decimal(minor).scaleb(-places).quantize(Decimal(1).scaleb(-places)))


def parse_price(text: str) -> int:
    """A unit price (``"0.0125"``, up to 6 places, not negative) as micro-units."""
    value = plain_decimal(text, "unit price")
    if _places(value) > PRICE_PLACES:
        raise MoneyError(f"unit price {text} has more than {PRICE_PLACES} decimal places")
    if value < 0:
        raise MoneyError(f"unit price must not be negative, got {text}")
    micros = int(value.scaleb(PRICE_PLACES))
    if micros > MAX_MINOR:
        raise MoneyError(f"unit price {text} is too large")
    return micros


def format_price(micros: int) -> str:
    """Micro-units as the shortest decimal string (``12500`` -> ``"0.0125"``)."""
    text = str(Decimal(micros).scaleb(-PRICE_PLACES).normalize())
    return f"{int(Decimal(text))}" if "E" in text else text


def round_half_even(value: Fraction) -> int:
    """The integer nearest ``value``, ties to even (exact, no float)."""
    floor = value.numerator // value.denominator
    rest = value - floor
    if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and floor % 2 == 1):
        return floor + 1
    return floor


def usage_charge(quantity: int, included: int, price_micros: int, currency: str) -> int:
    """Minor units of one meter in one period: overage x unit price, rounded once."""
    overage = max(0, quantity - included)
    return round_half_even(Fraction(overage * price_micros * 10 ** exponent(currency), MICROS))


def prorate(amount_minor: int, remaining_s: int, period_s: int) -> int:
    """``amount`` for ``remaining_s`` of a ``period_s`` period, by seconds, rounded once."""
    if period_s <= 0:
        raise MoneyError("a period must be longer than zero seconds")
    remaining_s = min(max(remaining_s, 0), period_s)
    return round_half_even(Fraction(amount_minor * remaining_s, period_s))
