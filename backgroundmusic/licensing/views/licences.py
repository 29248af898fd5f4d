"""My licences, /licences/: the person's agreements, each with its document (HTML and PDF, in
the reader's language), its certificate (HTML and PDF), its history, the certificate's display
choice, its files (what it lets the person download now, and the downloads made under it) and,
for a subscription, renewing it or cancelling renewal. Thin: parse, call agreements,
certificates, licence_files and renewals, render. Another person's agreement is "not found", as
if it did not exist."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.core.http import AuthenticatedRequest
from backgroundmusic.licensing import agreements, certificates, licence_files, renewals
from backgroundmusic.licensing.entitlements import comes_with_downloads
from backgroundmusic.licensing.licence_forms import LicenseeDisplayForm
from backgroundmusic.licensing.models import Agreement


def _language() -> str:
    return "ru" if (get_language() or "").startswith("ru") else "en"


def _owned(request: AuthenticatedRequest, number: str) -> Agreement:
    agreement = agreements.agreement_of(user=request.user, number=number)
    if agreement is None:
        raise Http404(_("You have no licence with this number."))
    return agreement


@login_required
@never_cache
@require_GET
def licences(request: AuthenticatedRequest) -> HttpResponse:
    now = clock.now()
    listed = list(agreements.agreements_of(user=request.user))
    offers = renewals.renewal_offers(agreements_shown=listed, now=now)
    rows = [
        {
            "agreement": agreement,
            "status": offers[agreement.pk].status,
            "renewal": offers[agreement.pk],
            "gives_downloads": comes_with_downloads(uses=agreement.uses),
        }
        for agreement in listed
    ]
    return render(request, "licensing/licences.html", {"rows": rows, "language": _language()})


def _licence_context(
    request: AuthenticatedRequest, agreement: Agreement, display_form: LicenseeDisplayForm
) -> dict[str, Any]:
    now = clock.now()
    language = _language()
    return {
        "agreement": agreement,
        "language": language,
        "facts": certificates.certificate_facts(
            certificate=agreement.certificate, now=now, language=language
        ),
        "checked_at": now,
        "history": [
            {"event": event, "description": agreements.agreement_event_description(event)}
            for event in agreements.agreement_history(agreement=agreement)
        ],
        # The licensee reads why their licence was revoked.
        "show_reasons": True,
        "display_form": display_form,
        "may_cancel_renewal": agreement.paid_until is not None
        and agreement.renewal_cancelled_at is None
        and agreement.status in (Agreement.Status.ACTIVE, Agreement.Status.SUSPENDED),
        "renewal": renewals.renewal_offer(agreement=agreement, now=now),
        "continuation": renewals.continuation_of(agreement=agreement),
        "files": licence_files.licence_files(user=request.user, agreement=agreement, now=now),
        "downloads": licence_files.downloads_under(
            user=request.user, agreement=agreement, page_number=request.GET.get("page")
        ),
    }


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def licence(request: AuthenticatedRequest, number: str) -> HttpResponse:
    agreement = _owned(request, number)
    certificate = agreement.certificate
    if request.method == "POST":
        form = LicenseeDisplayForm(request.POST, licensee_kind=agreement.licensee_kind)
        if form.is_valid():
            try:
                certificates.certificate_display_set(
                    user=request.user,
                    certificate=certificate,
                    display=form.cleaned_data["licensee_display"],
                )
            except DomainError as refused:
                form.add_error("licensee_display", refused.message)
            else:
                messages.success(request, _("The certificate now shows your choice."))
                return redirect("licensing:licence", number=agreement.number)
    else:
        form = LicenseeDisplayForm(
            initial={"licensee_display": certificate.licensee_display},
            licensee_kind=agreement.licensee_kind,
        )
    status = 400 if form.errors else 200
    return render(
        request,
        "licensing/licence.html",
        _licence_context(request, agreement, form),
        status=status,
    )


@login_required
@require_POST
def cancel_renewal(request: AuthenticatedRequest, number: str) -> HttpResponse:
    agreement = _owned(request, number)
    try:
        agreements.agreement_cancel_renewal(user=request.user, agreement=agreement, now=clock.now())
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(
            request,
            _("Renewal is cancelled: the licence stays in force until the paid month ends."),
        )
    return redirect("licensing:licence", number=agreement.number)


@login_required
@never_cache
@require_GET
def agreement_document(request: AuthenticatedRequest, number: str) -> HttpResponse:
    agreement = _owned(request, number)
    language = _language()
    document = agreement.document_ru if language == "ru" else agreement.document_en
    return render(
        request,
        "licensing/agreement.html",
        {
            "agreement": agreement,
            # Rendered and escaped at conclusion, frozen since (agreements.py).
            "document": mark_safe(document),  # noqa: S308
            "hash_matches": agreements.agreement_document_hash_matches(agreement=agreement),
        },
    )


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@login_required
@never_cache
@require_GET
def agreement_pdf(request: AuthenticatedRequest, number: str) -> HttpResponse:
    agreement = _owned(request, number)
    language = _language()
    content = agreements.agreement_pdf(agreement=agreement, language=language)
    return _pdf(content, f"{agreement.number}-{language}.pdf")


@login_required
@never_cache
@require_GET
def certificate(request: AuthenticatedRequest, number: str) -> HttpResponse:
    agreement = _owned(request, number)
    now = clock.now()
    facts = certificates.certificate_facts(
        certificate=agreement.certificate, now=now, language=_language()
    )
    return render(
        request,
        "licensing/certificate.html",
        {"agreement": agreement, "facts": facts, "checked_at": now},
    )


@login_required
@never_cache
@require_GET
def certificate_pdf(request: AuthenticatedRequest, number: str) -> HttpResponse:
    agreement = _owned(request, number)
    language = _language()
    content = certificates.certificate_pdf(
        certificate=agreement.certificate, now=clock.now(), language=language
    )
    return _pdf(content, f"{agreement.number}-certificate-{language}.pdf")
