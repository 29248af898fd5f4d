"""The public request form (privacy/requests_public.py): anyone, signed in or not, files a
data-subject request; a one-time code e-mailed to the typed address proves it is theirs.

The pending request and the logged one are remembered in the visitor's session only, so a page
shows nothing to anyone else. Every answer is the same whether the address belongs to an account.
The confirmation page follows the request: its deadlines while open, the answer once closed, as
the privacy center's "Your requests" section (`requests_section`) shows a signed-in person's.
"""

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from backgroundmusic.core.errors import DomainError
from backgroundmusic.core.forms import Form
from backgroundmusic.core.ratelimits import rate_limit_hit, refusal_page
from backgroundmusic.privacy import requests as dsr
from backgroundmusic.privacy import requests_public as public
from backgroundmusic.privacy.kernel.pseudonyms import address_digest
from backgroundmusic.privacy.models import RequestKind
from backgroundmusic.privacy.requests_public import CodeOutcome

PENDING_KEY = "privacy.pending_request"
LOGGED_KEY = "privacy.logged_request"
RATE_SCOPE = "request_code"


class PublicRequestForm(Form):
    email = forms.EmailField(
        label=gettext_lazy("Your e-mail address"),
        help_text=gettext_lazy("We send a code there to check that the address is yours."),
        max_length=public.ADDRESS_MAX_LENGTH,
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("What do you ask for?"), choices=RequestKind.choices
    )
    details = forms.CharField(
        label=gettext_lazy("Tell us more (optional)"),
        help_text=gettext_lazy(
            "For example which data, or how we can tell which account or letters are yours."
        ),
        max_length=dsr.REASON_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class CodeForm(Form):
    code = forms.RegexField(
        label=gettext_lazy("Code from the e-mail"),
        regex=rf"^\s*\d{{{public.CODE_DIGITS}}}\s*$",
        error_messages={"invalid": gettext_lazy("The code is the 6 digits from the e-mail.")},
        max_length=20,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "size": 8}
        ),
    )


def _rate_refusal(request: HttpRequest, *, digest: str) -> HttpResponse | None:
    refusal = rate_limit_hit(request, scope=RATE_SCOPE, keys={"email": digest})
    return refusal_page(request, refusal) if refusal is not None else None


@never_cache
@require_http_methods(["GET", "POST"])
def request_form(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = PublicRequestForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            refused = _rate_refusal(request, digest=address_digest(address=data["email"]))
            if refused is not None:
                return refused
            try:
                pending = public.pending_request_start(
                    address=data["email"],
                    kind=data["kind"],
                    details=data["details"],
                    language=get_language() or "",
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                request.session[PENDING_KEY] = pending.pk
                return redirect("privacy:public_request_code")
    else:
        form = PublicRequestForm()
    return render(request, "privacy/request_form.html", {"form": form})


# What the code page says for each outcome that logs nothing.
def _code_refusal(check: public.CodeCheck) -> str:
    if check.outcome == CodeOutcome.WRONG and check.attempts_left:
        return ngettext(
            "This code is not right. You have %(left)s more try.",
            "This code is not right. You have %(left)s more tries.",
            check.attempts_left,
        ) % {"left": check.attempts_left}
    if check.outcome in (CodeOutcome.WRONG, CodeOutcome.EXHAUSTED):
        return _(
            "This code is not right, and no tries are left: ask for a new code. Nothing was logged."
        )
    if check.outcome == CodeOutcome.EXPIRED:
        return _(
            "This code has expired: codes work for %(minutes)s minutes. Ask for a new code."
        ) % {"minutes": int(public.CODE_LIFETIME.total_seconds() // 60)}
    if check.outcome == CodeOutcome.SUPERSEDED:
        return _("A newer code was sent: type the code from the latest e-mail.")
    return _("This request was not kept: fill in the form again.")


@never_cache
@require_http_methods(["GET", "POST"])
def request_code(request: HttpRequest) -> HttpResponse:
    pending_id = request.session.get(PENDING_KEY)
    typed = (
        public.pending_request_typed(pending_id=pending_id) if isinstance(pending_id, int) else None
    )
    if typed is None:
        return redirect("privacy:public_request")
    assert isinstance(pending_id, int)
    form = CodeForm()
    status = 200
    if request.method == "POST" and request.POST.get("op") == "renew":
        digest = public.pending_request_address_digest(pending_id=pending_id) or ""
        refused = _rate_refusal(request, digest=digest)
        if refused is not None:
            return refused
        try:
            renewed = public.pending_request_renew(pending_id=pending_id)
        except DomainError as error:
            form.add_error(None, error.message)
            status = 409
        else:
            request.session[PENDING_KEY] = renewed.pk
            return redirect("privacy:public_request_code")
    elif request.method == "POST":
        form = CodeForm(request.POST)
        if form.is_valid():
            check = public.pending_request_verify(
                pending_id=pending_id, code=form.cleaned_data["code"]
            )
            if check.request is not None:
                request.session.pop(PENDING_KEY, None)
                request.session[LOGGED_KEY] = check.request.pk
                return redirect("privacy:public_request_done")
            form.add_error("code", _code_refusal(check))
        status = 400
    return render(
        request,
        "privacy/request_code.html",
        {
            "form": form,
            "address": typed.address,
            "minutes": int(public.CODE_LIFETIME.total_seconds() // 60),
            "attempts": public.CODE_ATTEMPTS,
        },
        status=status,
    )


@never_cache
@require_http_methods(["GET"])
def request_done(request: HttpRequest) -> HttpResponse:
    request_id = request.session.get(LOGGED_KEY)
    logged = dsr.request_get(request_id=request_id) if isinstance(request_id, int) else None
    if logged is None:
        return redirect("privacy:public_request")
    return render(
        request, "privacy/request_done.html", {"entry": dsr.requester_view(request=logged)}
    )


def requests_section(request: HttpRequest) -> dict[str, Any]:
    """Context of the privacy center's "Your requests" section."""
    return {"entries": dsr.requests_of_subject(user=request.user)}
