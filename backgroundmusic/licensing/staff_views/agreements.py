"""/staff/licensing/agreements/: licensing managers see every agreement and its history, and
revoke one with a reason. The licensee's data (name, the identified venue, channel or project,
the document) is shown only after a reason is given, which the staff access log records.

Thin: parse with a form, call agreements (which checks the actor again), render."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.licensing import agreements
from backgroundmusic.licensing.licence_forms import ReadReasonForm, RevokeForm
from backgroundmusic.licensing.models import Agreement
from backgroundmusic.staffroles.selectors import staff_may_manage_agreements


def _require_manager(request: HttpRequest) -> None:
    if not staff_may_manage_agreements(actor=request.user):
        raise PermissionDenied


@login_required
@never_cache
@require_GET
def staff_agreements(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    number = request.GET.get("q", "")[:40]
    status = request.GET.get("status", "")
    if status not in Agreement.Status.values:
        status = ""
    listed = agreements.agreements_for_staff(actor=request.user, status=status, number=number)
    page = Paginator(listed, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "licensing/staff/agreements.html",
        {
            "page": page,
            "query": number,
            "status": status,
            "statuses": Agreement.Status.choices,
            "ru": (get_language() or "").startswith("ru"),
        },
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def staff_agreement(request: HttpRequest, number: str) -> HttpResponse:
    _require_manager(request)
    agreement = agreements.agreement_for_staff(actor=request.user, number=number)
    if agreement is None:
        raise Http404(_("There is no agreement with this number."))
    op = request.POST.get("op") if request.method == "POST" else None
    read_form = ReadReasonForm(request.POST if op == "read" else None)
    revoke_form = RevokeForm(request.POST if op == "revoke" else None)
    revealed = False
    if op == "read" and read_form.is_valid():
        try:
            agreements.agreement_staff_read(
                actor=request.user, agreement=agreement, reason=read_form.cleaned_data["reason"]
            )
        except DomainError as refused:
            read_form.add_error("reason", refused.message)
        else:
            revealed = True
    elif op == "revoke" and revoke_form.is_valid():
        try:
            agreements.agreement_revoke(
                actor=request.user,
                agreement=agreement,
                reason=revoke_form.cleaned_data["reason"],
                now=clock.now(),
            )
        except DomainError as refused:
            revoke_form.add_error("reason", refused.message)
        else:
            messages.success(request, _("The agreement is revoked."))
            return redirect("licensing_staff:agreement", number=agreement.number)
    elif op not in (None, "read", "revoke"):
        messages.error(request, _("Unknown operation: nothing was changed."))
    errors = bool(read_form.errors or revoke_form.errors)
    return render(
        request,
        "licensing/staff/agreement.html",
        _detail_context(agreement, read_form, revoke_form, revealed),
        status=400 if errors else 200,
    )


def _detail_context(
    agreement: Agreement, read_form: ReadReasonForm, revoke_form: RevokeForm, revealed: bool
) -> dict[str, Any]:
    ru = (get_language() or "").startswith("ru")
    document = agreement.document_ru if ru else agreement.document_en
    return {
        "agreement": agreement,
        "status": agreements.agreement_status_at(agreement, now=clock.now()),
        "ru": ru,
        "history": [
            {"event": event, "description": agreements.agreement_event_description(event)}
            for event in agreements.agreement_history(agreement=agreement)
        ],
        "read_form": read_form,
        "revoke_form": revoke_form,
        "revealed": revealed,
        "show_reasons": revealed,
        # Rendered and escaped at conclusion, frozen since (agreements.py).
        "document": mark_safe(document) if revealed else "",  # noqa: S308
        "may_revoke": agreement.status != Agreement.Status.REVOKED,
    }
