"""The cart and checkout forms, and staff's order forms: parse and check shapes only; the rules
are in licensing/orders.py and licensing/billing.py."""

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from backgroundmusic.core.forms import Form
from backgroundmusic.licensing.models import BuyerKind, Currency, PaymentMethod
from backgroundmusic.licensing.orders import USE_DESCRIPTION_MAX

# Ids are database keys: anything past a 32-bit integer is not one of ours.
ID_MAX = 2**31 - 1


class CartAddForm(Form):
    edition = forms.IntegerField(min_value=1, max_value=ID_MAX, widget=forms.HiddenInput)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=10_000, initial=1)
    track = forms.SlugField(label=_("Track"), max_length=220, required=False)
    use_description = forms.CharField(
        label=_("Venue, channel or project"),
        max_length=USE_DESCRIPTION_MAX,
        required=False,
        help_text=_("For a venue: its name and address. For a single track: the project."),
    )


class CheckoutForm(Form):
    buyer_kind = forms.ChoiceField(
        label=_("You buy as"), choices=BuyerKind.choices, widget=forms.RadioSelect
    )
    currency = forms.ChoiceField(
        label=_("Currency"), choices=Currency.choices, widget=forms.RadioSelect
    )
    payment_method = forms.ChoiceField(label=_("Payment method"), widget=forms.RadioSelect)
    tax_registration_code = forms.CharField(
        label=_("KPP (companies only, if you have one)"), max_length=9, required=False
    )
    terms_edition = forms.IntegerField(min_value=1, max_value=ID_MAX, widget=forms.HiddenInput)
    accept_terms = forms.BooleanField(
        label=_("I have read the licence terms above and accept them"),
        error_messages={"required": _("Accept the licence terms to place the order.")},
    )

    def __init__(self, *args: Any, payment_methods: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(PaymentMethod.choices)
        method_field = self.fields["payment_method"]
        assert isinstance(method_field, forms.ChoiceField)
        method_field.choices = [(method, labels[method]) for method in payment_methods]


class RenewalForm(CheckoutForm):
    """Checkout's choices for renewing a subscription: the buyer is the licensee the agreement
    names, so how they buy is not asked again."""

    buyer_kind = None  # type: ignore[assignment]


class TransferConfirmForm(Form):
    reference = forms.CharField(
        label=_("Reference of the transfer on the bank statement"), max_length=140
    )


class RefundForm(Form):
    payment = forms.IntegerField(min_value=1, max_value=ID_MAX, widget=forms.HiddenInput)
    amount = forms.DecimalField(
        label=_("Amount to refund"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
    )
    reason = forms.CharField(label=_("Reason"), max_length=1000, widget=forms.Textarea)


class StaffCancelForm(Form):
    reason = forms.CharField(label=_("Reason"), max_length=1000, widget=forms.Textarea)
