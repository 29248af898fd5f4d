"""/licences/<number>/renew/: renewing a subscription. The page says where the subscription
stands and what a renewal buys (the plan's edition on sale for one more month, its price in both
currencies, and whether it is a newer edition than the agreement's); its form asks what checkout
asks, but not how the person buys: the currency, the payment method, a company's KPP, and the
licence terms in force accepted. Placing the order leads to its payment as checkout's does; a
renewal order already waiting for payment is where a second click leads. Thin: renewals says
where the agreement stands, orders places the order. Another person's licence is "not found"."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.core.http import AuthenticatedRequest
from backgroundmusic.core.request_info import client_ip
from backgroundmusic.licensing import agreements, editions, orders, renewals
from backgroundmusic.licensing.forms import RenewalForm
from backgroundmusic.licensing.models import Agreement, BuyerKind, Currency, Order, PlanEdition
from backgroundmusic.licensing.money import LineAmounts, line_amounts
from backgroundmusic.licensing.views.checkout import order_placed_response, terms_shown


def _prices(
    offered: PlanEdition | None, concluded: PlanEdition | None, quantity: int
) -> list[tuple[LineAmounts, LineAmounts | None]]:
    """A month of the `offered` edition in each currency, as the renewal's order line would
    cost it, beside what a month of the `concluded` edition cost (when it is another)."""
    if offered is None:
        return []
    return [
        (
            line_amounts(edition=offered, currency=currency, quantity=quantity),
            line_amounts(edition=concluded, currency=currency, quantity=quantity)
            if concluded is not None
            else None,
        )
        for currency in Currency.values
    ]


def _initial(agreement: Agreement, methods: list[str], terms_id: int | None) -> dict[str, Any]:
    """The choices of the order that bought the licence, where they still apply."""
    bought = Order.objects.filter(lines__agreement=agreement).only(
        "currency", "payment_method", "tax_registration_code"
    )[0]
    return {
        "currency": bought.currency,
        "payment_method": bought.payment_method if bought.payment_method in methods else methods[0],
        "tax_registration_code": bought.tax_registration_code,
        "terms_edition": terms_id,
    }


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def renew(request: AuthenticatedRequest, number: str) -> HttpResponse:
    agreement = agreements.agreement_of(user=request.user, number=number)
    if agreement is None:
        raise Http404(_("You have no licence with this number."))
    methods = orders.payment_methods_enabled()
    terms = editions.current_terms_edition()
    if request.method == "POST":
        form = RenewalForm(request.POST, payment_methods=methods)
        if form.is_valid():
            data = form.cleaned_data
            try:
                placed = orders.renewal_order_place(
                    user=request.user,
                    agreement=agreement,
                    currency=data["currency"],
                    payment_method=data["payment_method"],
                    accept_terms_edition_id=data["terms_edition"],
                    ip=client_ip(request),
                    user_agent=str(request.headers.get("User-Agent", "")),
                    tax_registration_code=data["tax_registration_code"],
                )
            except DomainError as refused:
                form.add_error(None, refused.message)
            else:
                if placed.created:
                    return order_placed_response(request, placed.order)
                messages.info(
                    request,
                    _("This renewal was already ordered: it waits for payment here."),
                )
                return redirect("licensing:order", public_id=placed.order.public_id)
    else:
        form = RenewalForm(
            initial=_initial(agreement, methods, terms.pk if terms is not None else None),
            payment_methods=methods,
        )
    offer = renewals.renewal_offer(agreement=agreement, now=clock.now())
    return render(
        request,
        "licensing/renew.html",
        {
            "agreement": agreement,
            "offer": offer,
            "form": form,
            "legal": agreement.licensee_kind == BuyerKind.LEGAL,
            "prices": _prices(
                offer.edition,
                agreement.plan_edition if offer.edition_changed else None,
                agreement.quantity,
            ),
            "quantity": agreements.quantity_display(
                agreement.quantity, agreement.plan_edition.quantity_unit
            ),
            **terms_shown(terms),
        },
        status=400 if form.errors else 200,
    )
