"""/orders/: the person's orders; each order's page (status, lines, invoice, how to pay, the
payment's progress), paying by card again, the return from the provider's page, cancelling an
unpaid order, and the invoice PDF (the buyer and the staff who manage orders). Another person's
order is "not found", as if it did not exist."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from backgroundmusic.core.errors import DomainError
from backgroundmusic.core.http import AuthenticatedRequest
from backgroundmusic.licensing import billing, invoices, orders
from backgroundmusic.licensing.models import Order, Payment, PaymentMethod


def _own(request: AuthenticatedRequest, public_id: str) -> Order:
    order = orders.order_of(user=request.user, public_id=public_id)
    if order is None:
        raise Http404(_("You have no order with this number."))
    return order


def _detail(public_id: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("licensing:order", args=[public_id]))


@login_required
@never_cache
@require_GET
def order_list(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request, "licensing/orders.html", {"orders": list(orders.orders_of(user=request.user))}
    )


@login_required
@never_cache
@require_GET
def order_detail(request: AuthenticatedRequest, public_id: str) -> HttpResponse:
    order = _own(request, public_id)
    payments = list(order.payments.all())
    return render(
        request,
        "licensing/order.html",
        {
            "order": order,
            "lines": list(order.lines.all()),
            "payments": payments,
            "card_pending": any(
                p.provider != "bank_transfer" and p.status == Payment.Status.PENDING
                for p in payments
            ),
            "awaiting": order.status == Order.Status.AWAITING_PAYMENT,
            "by_card": order.payment_method == PaymentMethod.CARD,
            "seller": invoices.operator_details(request.LANGUAGE_CODE),
            "payment_reference": invoices.payment_reference(order),
            "invoice_number": (
                invoices.invoice_number(order.invoice) if hasattr(order, "invoice") else ""
            ),
        },
    )


@login_required
@require_POST
def order_pay(request: AuthenticatedRequest, public_id: str) -> HttpResponse:
    """Pay by card: to the provider's page (the same payment again while it is open)."""
    order = _own(request, public_id)
    try:
        payment = billing.payment_start(
            order=order,
            provider_name=orders.PAYMENT_PROVIDER[PaymentMethod(order.payment_method)],
            return_url=request.build_absolute_uri(
                reverse("licensing:order_return", args=[public_id])
            ),
        )
    except DomainError as refused:
        messages.error(request, refused.message)
        return _detail(public_id)
    if order.payment_method != PaymentMethod.CARD or not payment.confirmation_url:
        return _detail(public_id)
    return HttpResponseRedirect(payment.confirmation_url)


@login_required
@never_cache
@require_GET
def order_return(request: AuthenticatedRequest, public_id: str) -> HttpResponse:
    """Where the provider's page sends the buyer back: the payment is read again at once, so the
    page shows what happened without waiting for the provider's notification."""
    order = _own(request, public_id)
    for payment in order.payments.filter(status=Payment.Status.PENDING).exclude(
        provider_payment_id=""
    ):
        try:
            outcome = billing.payment_sync(payment=payment)
        except DomainError as refused:
            messages.error(request, refused.message)
            continue
        if outcome == billing.Outcome.PAID:
            messages.success(
                request, _("Thank you: the payment arrived and your licences are ready.")
            )
        elif outcome == billing.Outcome.CANCELED:
            messages.error(request, _("The payment did not go through. You may try again."))
    return _detail(public_id)


@login_required
@require_POST
def order_cancel(request: AuthenticatedRequest, public_id: str) -> HttpResponse:
    order = _own(request, public_id)
    try:
        billing.order_cancel(actor=request.user, order=order)
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("The order is cancelled."))
    return _detail(public_id)


@login_required
@never_cache
@require_GET
def order_invoice_pdf(request: HttpRequest, public_id: str) -> HttpResponse:
    """The invoice as a PDF, for the buyer and for the staff who manage orders (their reading
    of the buyer's requisites is written to the access log)."""
    try:
        invoice = invoices.invoice_for_reader(actor=request.user, public_id=public_id)
    except DomainError:
        invoice = None
    if invoice is None:
        raise Http404(_("There is no invoice for this order."))
    pdf = invoices.invoice_pdf(invoice=invoice)
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"invoice-{invoices.invoice_number(invoice)}.pdf"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response
