"""/cart/: the person's cart priced in the chosen currency, adding (the pricing page posts here)
and removing lines. Thin: parse, call licensing.orders, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from backgroundmusic.core.errors import DomainError
from backgroundmusic.core.http import AuthenticatedRequest
from backgroundmusic.licensing import orders
from backgroundmusic.licensing.forms import CartAddForm
from backgroundmusic.licensing.models import Currency


def chosen_currency(value: str | None) -> str:
    return value if value in Currency.values else Currency.RUB


@login_required
@never_cache
@require_GET
def cart(request: AuthenticatedRequest) -> HttpResponse:
    currency = chosen_currency(request.GET.get("currency"))
    summary = orders.cart_summary(user=request.user, currency=currency)
    return render(
        request,
        "licensing/cart.html",
        {"summary": summary, "currencies": Currency.choices, "currency": currency},
    )


@login_required
@require_POST
def cart_add(request: AuthenticatedRequest) -> HttpResponse:
    """Adds a licence to the cart; a refusal shows the form again with what was sent."""
    form = CartAddForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            orders.cart_add(
                user=request.user,
                edition_id=data["edition"],
                quantity=data["quantity"],
                track_slug=data["track"],
                use_description=data["use_description"],
            )
        except DomainError as refused:
            # Choosing a plan twice is no mistake to correct: the cart already holds it.
            if refused.code == "already_in_cart":
                messages.info(request, refused.message)
                return HttpResponseRedirect(reverse("licensing:cart"))
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("The licence is in your cart."))
            return HttpResponseRedirect(reverse("licensing:cart"))
    return render(request, "licensing/cart_add.html", {"form": form}, status=400)


@login_required
@require_POST
def cart_remove(request: AuthenticatedRequest, line_id: int) -> HttpResponse:
    if orders.cart_remove(user=request.user, line_id=line_id):
        messages.success(request, _("The licence is removed from your cart."))
    return HttpResponseRedirect(reverse("licensing:cart"))
