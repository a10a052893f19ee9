"""The pure money rules: exact amounts, half-even rounding once, proration by seconds."""

from __future__ import annotations

import time
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.money import (
    MoneyError,
    format_amount,
    format_price,
    parse_amount,
    parse_price,
    prorate,
    round_half_even,
    usage_charge,
)


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("12.34", "USD", 1234),
        ("0.01", "USD", 1),
        ("100", "USD", 10000),
        ("500", "JPY", 500),
        ("1.234", "KWD", 1234),
        ("10.50", "USD", 1050),
    ],
)
def test_amounts_parse_to_minor_units(text: str, currency: str, minor: int) -> None:
    assert parse_amount(text, currency) == minor
    assert parse_amount(format_amount(minor, currency), currency) == minor


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("-5", "USD", "positive"),
        ("0", "USD", "positive"),
        ("0.00", "USD", "positive"),
        ("1.001", "USD", "more than 2 decimal places"),
        ("1.5", "JPY", "more than 0"),
        ("abc", "USD", "not a plain decimal"),
        ("NaN", "USD", "not a plain decimal"),
        ("Infinity", "USD", "not a plain decimal"),
        ("1", "XXX", "unknown currency"),
        ("1e400", "USD", "not a plain decimal"),
        ("1E2", "USD", "not a plain decimal"),
        ("1_000", "USD", "not a plain decimal"),
        ("\u0661\u0662", "USD", "not a plain decimal"),  # Arabic-Indic digits
        ("\uff11", "USD", "not a plain decimal"),  # a full-width 1
        (".5", "USD", "not a plain decimal"),
        ("1" * 19, "USD", "at most 18 digits"),
        ("1" * 10 + "." + "1" * 9, "USD", "at most 18 digits"),
        ("9" * 16, "USD", "too large"),
        ("1e999997", "USD", "not a plain decimal"),
        ("1" * 900_000, "USD", "at most 18 digits"),
        (" 10.00", "USD", "not a plain decimal"),  # no space around it, ASCII or not
        ("\u00a010.00", "USD", "not a plain decimal"),
        ("10.00\u3000", "USD", "not a plain decimal"),
        ("+10", "USD", "not a plain decimal"),
    ],
    ids=lambda value: value[:24] if isinstance(value, str) else None,
)
def test_bad_amounts_are_refused(text: str, currency: str, message: str) -> None:
    with pytest.raises(MoneyError, match=message):
        parse_amount(text, currency)


@pytest.mark.parametrize("text", ["1e999997", "1" * 900_000, "1" * 64 + "e" + "9" * 64])
def test_hostile_amounts_are_refused_in_bounded_time(text: str) -> None:
    started = time.perf_counter()
    for _ in range(100):
        with pytest.raises(MoneyError):
            parse_amount(text, "USD")
    assert time.perf_counter() - started < 0.05  # 100 refusals: well under 0.5 ms each


def test_formatting() -> None:
    assert format_amount(-5, "USD") == "-0.05"
    assert format_amount(0, "USD") == "0.00"
    assert format_amount(7, "JPY") == "7"
    assert format_price(parse_price("0.0125")) == "0.0125"
    assert format_price(parse_price("15")) == "15"
    with pytest.raises(MoneyError, match="6 decimal places"):
        parse_price("0.0000001")


def test_half_even_rounding() -> None:
    assert [round_half_even(Fraction(n, 2)) for n in (1, 3, 5, -1, -3)] == [0, 2, 2, 0, -2]
    assert round_half_even(Fraction(251, 100)) == 3
    assert round_half_even(Fraction(-251, 100)) == -3


def test_usage_charge_rounds_once_per_total() -> None:
    # 3 sessions over at 0.0125 = 0.0375 -> 0.04; per session it would be 3 x 0.01 = 0.03
    assert usage_charge(1003, 1000, parse_price("0.0125"), "USD") == 4
    assert usage_charge(1001, 1000, parse_price("0.005"), "USD") == 0  # 0.005 -> 0.00 (even)
    assert usage_charge(1003, 1000, parse_price("0.005"), "USD") == 2  # 0.015 -> 0.02
    assert usage_charge(10, 1000, parse_price("0.05"), "USD") == 0
    assert usage_charge(3, 2, parse_price("15"), "USD") == 1500
    assert usage_charge(7, 0, parse_price("0.5"), "JPY") == 4  # 3.5 -> 4


@given(
    quantity=st.integers(0, 10**9),
    included=st.integers(0, 10**6),
    price=st.integers(0, 10**9),
    currency=st.sampled_from(["USD", "JPY", "KWD"]),
)
def test_usage_charge_is_the_exact_product_rounded_half_even(
    quantity: int, included: int, price: int, currency: str
) -> None:
    places = {"USD": 2, "JPY": 0, "KWD": 3}[currency]
    exact = Fraction(max(0, quantity - included) * price, 10**6) * 10**places
    charge = usage_charge(quantity, included, price, currency)
    assert abs(charge - exact) <= Fraction(1, 2)
    if abs(charge - exact) == Fraction(1, 2):
        assert charge % 2 == 0


def test_proration_by_seconds() -> None:
    # 50.00 for 1,319,400 s of a 2,592,000 s month = 25.4513... -> 25.45
    assert prorate(5000, 1_319_400, 2_592_000) == 2545
    assert prorate(5000, 0, 2_592_000) == 0
    assert prorate(5000, 2_592_000, 2_592_000) == 5000
    assert prorate(1, 1, 2) == 0  # 0.5 -> 0 (even)
    assert prorate(3, 1, 2) == 2  # 1.5 -> 2 (even)
    with pytest.raises(MoneyError):
        prorate(1, 1, 0)
