"""/checkout/: the cart becomes an order. The buyer chooses how they buy (a private person or a
company), the currency and the payment method, reads the licence terms in force and accepts
them; a card payment then goes to the provider's page, a bank transfer to the order's page
with the invoice and the bank details. A refusal shows the form again as it was filled in."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from backgroundmusic.accounts.models import AccountType
from backgroundmusic.accounts.selectors import profile_of
from backgroundmusic.core.errors import DomainError
from backgroundmusic.core.http import AuthenticatedRequest
from backgroundmusic.core.markdown import markdown_html
from backgroundmusic.core.request_info import client_ip
from backgroundmusic.licensing import billing, editions, orders
from backgroundmusic.licensing.forms import CheckoutForm
from backgroundmusic.licensing.models import BuyerKind, LicenceTermsEdition, PaymentMethod
from backgroundmusic.licensing.views.cart import chosen_currency


def terms_shown(terms: LicenceTermsEdition | None) -> dict[str, Any]:
    """The licence terms in force as a buyer reads them before accepting (checkout, renewal)."""
    if terms is None:
        return {"terms": None}
    russian = (get_language() or "en").startswith("ru")
    return {
        "terms": terms,
        "terms_title": terms.title_ru if russian else terms.title_en,
        "terms_html": markdown_html(terms.body_ru if russian else terms.body_en),
    }


def _initial(
    request: AuthenticatedRequest, terms: LicenceTermsEdition | None, methods: list[str]
) -> dict[str, Any]:
    legal = profile_of(user=request.user).account_type == AccountType.LEGAL
    # A company usually pays by transfer, a person by card; either falls back to what is on
    # offer (bank transfer alone when no card provider is configured).
    preferred = PaymentMethod.BANK_TRANSFER if legal else PaymentMethod.CARD
    return {
        "buyer_kind": BuyerKind.LEGAL if legal else BuyerKind.NATURAL,
        "currency": chosen_currency(request.GET.get("currency")),
        "payment_method": preferred if preferred in methods else methods[0],
        "terms_edition": terms.pk if terms is not None else None,
    }


def _return_url(request: AuthenticatedRequest, public_id: str) -> str:
    return request.build_absolute_uri(reverse("licensing:order_return", args=[public_id]))


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def checkout(request: AuthenticatedRequest) -> HttpResponse:
    methods = orders.payment_methods_enabled()
    terms = editions.current_terms_edition()
    if request.method == "POST":
        form = CheckoutForm(request.POST, payment_methods=methods)
        if form.is_valid():
            data = form.cleaned_data
            try:
                order = orders.order_place(
                    user=request.user,
                    currency=data["currency"],
                    payment_method=data["payment_method"],
                    buyer_kind=data["buyer_kind"],
                    accept_terms_edition_id=data["terms_edition"],
                    ip=client_ip(request),
                    user_agent=str(request.headers.get("User-Agent", "")),
                    tax_registration_code=data["tax_registration_code"],
                )
            except DomainError as refused:
                form.add_error(None, refused.message)
            else:
                return order_placed_response(request, order)
        currency = chosen_currency(request.POST.get("currency"))
    else:
        form = CheckoutForm(initial=_initial(request, terms, methods), payment_methods=methods)
        currency = form.initial["currency"]
    summary = orders.cart_summary(user=request.user, currency=currency)
    return render(
        request,
        "licensing/checkout.html",
        {
            "form": form,
            "summary": summary,
            "profile_url": reverse("accounts:profile"),
            **terms_shown(terms),
        },
        status=400 if form.errors else 200,
    )


def order_placed_response(request: AuthenticatedRequest, order: Any) -> HttpResponse:
    """Where a new order leads: a card payment to the provider's page, a bank transfer to the
    order's page with the details (checkout, renewal)."""
    detail = reverse("licensing:order", args=[order.public_id])
    if order.payment_method != PaymentMethod.CARD:
        messages.success(
            request,
            _("Your order is placed. Pay it by bank transfer with the details below."),
        )
        return HttpResponseRedirect(detail)
    try:
        payment = billing.payment_start(
            order=order,
            provider_name=orders.PAYMENT_PROVIDER[PaymentMethod.CARD],
            return_url=_return_url(request, order.public_id),
        )
    except DomainError as refused:
        messages.error(request, refused.message)
        return HttpResponseRedirect(detail)
    return HttpResponseRedirect(payment.confirmation_url or detail)
