"""`{{ amount|money:currency }}` and `{{ money|money }}`: amounts shown as money_display shows
them in the page's language, so a price reads the same on the pricing page, the cart and the
orders."""

from decimal import Decimal

from django import template
from django.utils.translation import get_language
from moneyed import Money

from backgroundmusic.licensing.money import money_display

register = template.Library()


@register.filter
def money(amount: Money | Decimal, currency: str = "") -> str:
    if isinstance(amount, Money):
        return money_display(amount.amount, str(amount.currency), language=get_language() or "en")
    return money_display(amount, currency, language=get_language() or "en")
