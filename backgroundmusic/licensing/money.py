"""Amounts of orders and invoices, with py-moneyed's Money over Decimal.

VAT is computed on each line's net amount and rounded half up to the kopeck (or cent), then the
lines are summed, as a Russian invoice shows it; the totals are therefore exactly the sums of
what the lines show. No float is ever involved.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from moneyed import Money
from moneyed.l10n import format_money

from backgroundmusic.licensing.models import Currency, PlanEdition

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def rounded(amount: Decimal) -> Decimal:
    """Half up to two places: 0.005 becomes 0.01."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def unit_price(edition: PlanEdition, currency: str) -> Money:
    """The edition's price of one unit for one term in `currency`, VAT not included."""
    prices = {Currency.RUB: edition.price_rub, Currency.EUR: edition.price_eur}
    return Money(prices[Currency(currency)], currency)


@dataclass(frozen=True)
class LineAmounts:
    unit_price: Money
    quantity: int
    net: Money
    vat_rate: Decimal
    vat: Money
    gross: Money


def line_amounts(*, edition: PlanEdition, currency: str, quantity: int) -> LineAmounts:
    """What one order line of `quantity` units of `edition` costs in `currency`."""
    price = unit_price(edition, currency)
    net = Money(rounded(price.amount * quantity), currency)
    vat = Money(rounded(net.amount * edition.vat_rate / HUNDRED), currency)
    return LineAmounts(
        unit_price=price,
        quantity=quantity,
        net=net,
        vat_rate=edition.vat_rate,
        vat=vat,
        gross=net + vat,
    )


@dataclass(frozen=True)
class Totals:
    net: Money
    vat: Money
    gross: Money


def totals(lines: Iterable[LineAmounts], *, currency: str) -> Totals:
    """The sums of the lines' amounts (zero in `currency` for no lines)."""
    zero = Money(Decimal("0.00"), currency)
    net, vat = zero, zero
    for line in lines:
        net += line.net
        vat += line.vat
    return Totals(net=net, vat=vat, gross=net + vat)


def money_display(amount: Decimal, currency: str, *, language: str) -> str:
    """ "1 188,00 ₽" in Russian (CLDR's format); "1,188.00 RUB" in English, where CLDR would
    glue the code to the figure ("RUB1,188.00")."""
    if language.startswith("ru"):
        return format_money(Money(amount, currency), locale="ru_RU")
    return format_money(Money(amount, currency), locale="en_GB", format="#,##0.00\xa0¤¤")
