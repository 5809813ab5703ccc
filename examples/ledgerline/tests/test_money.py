from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledgerline.billing.currency import convert_lines, convert_total
from ledgerline.core.money import CurrencyMismatch, Money, format_money


def test_money_refuses_floats():
    with pytest.raises(TypeError):
        Money(10.5, "EUR")  # type: ignore[arg-type]


def test_from_decimal_rounds_half_up_once():
    assert Money.from_decimal(Decimal("0.125"), "EUR") == Money(13, "EUR")
    assert Money.from_decimal(Decimal("1.5"), "JPY") == Money(2, "JPY")


def test_adding_currencies_is_an_error():
    with pytest.raises(CurrencyMismatch):
        Money(1, "EUR") + Money(1, "USD")


@given(st.integers(min_value=0, max_value=10**9), st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=20))
def test_allocate_always_sums_to_the_whole(amount, weights):
    parts = Money(amount, "EUR").allocate(weights)
    assert sum(p.amount for p in parts) == amount


def test_converted_lines_sum_to_converted_total():
    # The LED-180 case: three lines that drifted by one cent when converted one by one.
    import datetime as dt

    day = dt.date(2025, 8, 6)
    rates = {(day, "SEK", "EUR"): "0.08915"}
    lines = [Money(3333, "SEK"), Money(3333, "SEK"), Money(3334, "SEK")]
    total = convert_total(Money(10000, "SEK"), "EUR", rates, day)
    assert sum(m.amount for m in convert_lines(lines, "EUR", rates, day)) == total.amount


def test_format_money_for_templates():
    assert format_money(Money(123450, "EUR")) == "EUR 1,234.50"
    assert format_money(Money(1500, "JPY")) == "JPY 1,500"
