"""/staff/licensing/orders/: orders for the staff who manage them (licensing manager): the list,
an order's page (lines, payments, refunds; no buyer's details, which the invoice PDF shows
with an access-log entry), confirming a bank transfer, refunding a payment, cancelling an
unpaid order. Thin: each action's service checks the actor again and writes the audit row."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.licensing import billing, orders
from backgroundmusic.licensing.forms import RefundForm, StaffCancelForm, TransferConfirmForm
from backgroundmusic.licensing.models import Order
from backgroundmusic.staffroles.selectors import staff_may_manage_orders


def _require_manager(request: HttpRequest) -> None:
    if not staff_may_manage_orders(actor=request.user):
        raise PermissionDenied


def _order(request: HttpRequest, public_id: str) -> Order:
    order = orders.order_for_staff(actor=request.user, public_id=public_id)
    if order is None:
        raise Http404(_("There is no order with this number."))
    return order


def _page(request: HttpRequest, order: Order, forms: dict[str, Any], status: int) -> HttpResponse:
    return render(
        request,
        "licensing/staff/order.html",
        {
            "order": order,
            "lines": list(order.lines.all()),
            "payments": list(order.payments.all()),
            "confirm_form": forms.get("confirm") or TransferConfirmForm(),
            "refund_form": forms.get("refund"),
            "cancel_form": forms.get("cancel") or StaffCancelForm(),
        },
        status=status,
    )


@login_required
@never_cache
@require_GET
def staff_orders(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    status = request.GET.get("status", "")
    query = request.GET.get("q", "")[:40]
    found = orders.orders_for_staff(actor=request.user, status=status, public_id=query)
    page = Paginator(found, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "licensing/staff/orders.html",
        {"page": page, "status": status, "query": query, "statuses": Order.Status.choices},
    )


@login_required
@never_cache
@require_GET
def staff_order(request: HttpRequest, public_id: str) -> HttpResponse:
    _require_manager(request)
    return _page(request, _order(request, public_id), {}, 200)


def _acted(request: HttpRequest, public_id: str, message: str) -> HttpResponse:
    messages.success(request, message)
    return HttpResponseRedirect(reverse("licensing_staff:order", args=[public_id]))


@login_required
@require_POST
def staff_transfer_confirm(request: HttpRequest, public_id: str) -> HttpResponse:
    _require_manager(request)
    order = _order(request, public_id)
    form = TransferConfirmForm(request.POST)
    if form.is_valid():
        try:
            billing.bank_transfer_confirm(
                actor=request.user,
                order=order,
                reference=form.cleaned_data["reference"],
                now=clock.now(),
            )
        except DomainError as refused:
            form.add_error(None, refused.message)
        else:
            return _acted(request, public_id, _("The transfer is confirmed; the order is paid."))
    return _page(request, order, {"confirm": form}, 400)


@login_required
@require_POST
def staff_refund(request: HttpRequest, public_id: str) -> HttpResponse:
    _require_manager(request)
    order = _order(request, public_id)
    form = RefundForm(request.POST)
    if form.is_valid():
        payment = order.payments.filter(pk=form.cleaned_data["payment"]).first()
        if payment is None:
            form.add_error(None, _("There is no such payment of this order."))
        else:
            try:
                billing.payment_refund(
                    actor=request.user,
                    payment=payment,
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as refused:
                form.add_error(None, refused.message)
            else:
                return _acted(request, public_id, _("The refund is made."))
    return _page(request, order, {"refund": form}, 400)


@login_required
@require_POST
def staff_order_cancel(request: HttpRequest, public_id: str) -> HttpResponse:
    _require_manager(request)
    order = _order(request, public_id)
    form = StaffCancelForm(request.POST)
    if form.is_valid():
        try:
            billing.order_cancel(
                actor=request.user, order=order, reason=form.cleaned_data["reason"]
            )
        except DomainError as refused:
            form.add_error(None, refused.message)
        else:
            return _acted(request, public_id, _("The order is cancelled."))
    return _page(request, order, {"cancel": form}, 400)
