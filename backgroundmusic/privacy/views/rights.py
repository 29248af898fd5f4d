"""Privacy-center pages of the person's rights: the data we hold, download my data, delete my
account. Thin: parse, call privacy.rights, render."""

from io import BytesIO
from typing import Any

from allauth.account.decorators import reauthentication_required
from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from backgroundmusic.core.errors import DomainError
from backgroundmusic.core.forms import Form
from backgroundmusic.core.http import AuthenticatedRequest
from backgroundmusic.core.ratelimits import rate_limited
from backgroundmusic.privacy.models import ConsentMethod
from backgroundmusic.privacy.rights import corrections, erasure, export, held
from backgroundmusic.staffroles.selectors import staff_is_member

# Privacy-center sections (privacy/templatetags/privacy_center.py)


def data_section(request: AuthenticatedRequest) -> dict[str, Any]:
    return {
        "held": held.data_held(subject=request.user),
        "exports": export.exports_of(subject=request.user),
    }


def corrections_section(request: AuthenticatedRequest) -> dict[str, Any]:
    return {"corrections": corrections.corrections_of(subject=request.user)}


def delete_section(request: AuthenticatedRequest) -> dict[str, Any]:
    return {"is_staff_member": staff_is_member(user=request.user)}


def _center_data() -> str:
    return reverse("privacy:center") + "#data"


@login_required
@require_POST
@reauthentication_required
@rate_limited("data_export")
def export_request(request: AuthenticatedRequest) -> HttpResponse:
    try:
        export.export_request(
            subject=request.user,
            method=ConsentMethod.PREFERENCE_CENTER,
            site_url=request.build_absolute_uri("/"),
            language=get_language() or "",
        )
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(
            request,
            _(
                "We are preparing your data. We will e-mail you a download link, and it will "
                "appear here, when it is ready."
            ),
        )
    return redirect(_center_data())


def _download(request: AuthenticatedRequest, **lookup: Any) -> HttpResponseBase:
    try:
        download = export.export_download(subject=request.user, **lookup)
    except export.ExportNotFound:
        raise Http404(_("There is no such download.")) from None
    except export.ExportGone as gone:
        return render(request, "privacy/export_gone.html", {"reason": gone.message}, status=410)
    response = FileResponse(
        BytesIO(download.content),
        as_attachment=True,
        filename=download.filename,
        content_type="application/zip",
    )
    return response


@login_required
@never_cache
@require_GET
def export_download(request: AuthenticatedRequest, token: str) -> HttpResponseBase:
    """The single-use link of the e-mail; the owner must be signed in to use it."""
    return _download(request, token=token)


@login_required
@never_cache
@require_POST
def export_download_from_center(request: AuthenticatedRequest, export_id: int) -> HttpResponseBase:
    """The "Download" button of the privacy center: the same single use as the e-mailed link."""
    return _download(request, export_id=export_id)


class DeleteAccountForm(Form):
    confirmation = forms.CharField(
        label=gettext_lazy("Type your username to confirm"),
        max_length=150,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )

    def __init__(self, *args: Any, username: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.username = username

    def clean_confirmation(self) -> str:
        typed = self.cleaned_data["confirmation"]
        if typed != self.username:
            raise forms.ValidationError(
                _("That is not your username. Type %(username)s exactly to delete the account."),
                code="mismatch",
                params={"username": self.username},
            )
        return typed


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
@reauthentication_required
def delete_account(request: AuthenticatedRequest) -> HttpResponse:
    if staff_is_member(user=request.user):
        return render(request, "privacy/delete_refused.html", status=403)
    form = DeleteAccountForm(
        request.POST if request.method == "POST" else None, username=request.user.username
    )
    if request.method == "POST" and form.is_valid():
        try:
            erasure.erasure_request(subject=request.user, reason=erasure.SELF_SERVICE_REASON)
        except DomainError as refused:
            form.add_error(None, refused.message)
        else:
            logout(request)
            return redirect("privacy:delete_done")
    return render(request, "privacy/delete.html", {"form": form})


@require_GET
def delete_done(request: HttpRequest) -> HttpResponse:
    return render(request, "privacy/delete_done.html")
