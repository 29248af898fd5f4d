"""Exact amounts: VAT per line rounded half up, totals as the sums of the lines."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

from backgroundmusic.licensing.models import PlanEdition
from backgroundmusic.licensing.money import line_amounts, money_display, rounded, totals


def edition(price_rub: str, price_eur: str = "1.00", vat_rate: str = "20.00") -> PlanEdition:
    # Unsaved: the arithmetic reads only prices and the VAT rate.
    return PlanEdition(
        price_rub=Decimal(price_rub), price_eur=Decimal(price_eur), vat_rate=Decimal(vat_rate)
    )


def test_a_line_of_three_locations_at_twenty_percent():
    line = line_amounts(edition=edition("1490.00"), currency="RUB", quantity=3)
    assert (line.net, line.vat, line.gross) == (
        Money("4470.00", "RUB"),
        Money("894.00", "RUB"),
        Money("5364.00", "RUB"),
    )


def test_vat_is_rounded_half_up_to_the_kopeck():
    # 0.125 × 20 % = 0.025 → 0.03 (half up), not 0.02 (banker's rounding).
    line = line_amounts(edition=edition("0.13", vat_rate="20.00"), currency="RUB", quantity=1)
    assert line.vat == Money("0.03", "RUB")
    line = line_amounts(edition=edition("10.05", vat_rate="5.00"), currency="RUB", quantity=1)
    assert line.vat == Money("0.50", "RUB")  # 0.5025 → 0.50


def test_euro_prices_are_their_own_data():
    line = line_amounts(edition=edition("990.00", "9.90"), currency="EUR", quantity=2)
    assert (line.net, line.vat, line.gross) == (
        Money("19.80", "EUR"),
        Money("3.96", "EUR"),
        Money("23.76", "EUR"),
    )


def test_a_rate_of_zero_and_an_empty_order():
    line = line_amounts(edition=edition("990.00", vat_rate="0.00"), currency="RUB", quantity=1)
    assert line.vat == Money("0.00", "RUB")
    empty = totals([], currency="EUR")
    assert (empty.net, empty.vat, empty.gross) == (Money("0.00", "EUR"),) * 3


def test_totals_are_the_sums_of_what_the_lines_show():
    lines = [
        line_amounts(edition=edition("0.13"), currency="RUB", quantity=1),
        line_amounts(edition=edition("0.13"), currency="RUB", quantity=1),
    ]
    # Per line 0.026 → 0.03 each, so 0.06; VAT on the summed net (0.26 → 0.052) would be 0.05.
    assert totals(lines, currency="RUB").vat == Money("0.06", "RUB")


prices = st.decimals(min_value=0, max_value=Decimal("99999999.99"), places=2)
rates = st.sampled_from(["0.00", "10.00", "20.00", "22.00"])


@given(
    price=prices,
    quantity=st.integers(min_value=1, max_value=500),
    rate=rates,
    currency=st.sampled_from(["RUB", "EUR"]),
)
def test_every_line_is_exact_to_two_places_and_adds_up(price, quantity, rate, currency):
    made = edition(str(price), str(price), rate)
    line = line_amounts(edition=made, currency=currency, quantity=quantity)
    assert line.net.amount == price * quantity
    assert line.vat.amount == rounded(line.net.amount * Decimal(rate) / 100)
    assert line.gross.amount == line.net.amount + line.vat.amount
    assert line.gross.amount.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("language", "expected"),
    [("ru", "1\xa0188,00\xa0₽"), ("en", "1,188.00\xa0RUB")],
)
def test_amounts_are_shown_in_the_reader_s_language(language, expected):
    assert money_display(Decimal("1188.00"), "RUB", language=language) == expected
