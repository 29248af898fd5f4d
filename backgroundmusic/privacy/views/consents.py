"""Cookies page and choice, the consent/sharing/restriction sections of the privacy center and
their one-click actions. Thin: parse, call privacy.consents, render."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from backgroundmusic.core.errors import DomainError
from backgroundmusic.core.forms import Form
from backgroundmusic.core.http import AuthenticatedRequest
from backgroundmusic.core.ratelimits import rate_limit_hit, refusal_page
from backgroundmusic.core.request_info import PrivacySignals, privacy_signals
from backgroundmusic.privacy import consents, cookies, optin, promotional_sms
from backgroundmusic.privacy.models import ConsentAction, ConsentMethod, ConsentPurpose, Recipient

# Purposes configured on the public profile settings page: giving them there needs choices.
GIVEN_ON_PROFILE_PAGE = frozenset({ConsentPurpose.PUBLIC_PROFILE, ConsentPurpose.INDEXING})

CATEGORY_LABELS = {
    "user.name": gettext_lazy("Name"),
    "user.contact.email": gettext_lazy("E-mail address"),
    "user.contact.address": gettext_lazy("Postal address"),
    "user.social": gettext_lazy("Social-network links"),
    "user.account.username": gettext_lazy("Username"),
    "user.behavior.purchase_history": gettext_lazy("Licences and invoices"),
    "user.behavior.browsing_history": gettext_lazy("Pages visited"),
    "user.workplace": gettext_lazy("Company"),
}


def _safe_next(request: HttpRequest, target: str) -> str:
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("privacy:cookies")


class CookieChoiceForm(Form):
    action = forms.ChoiceField(
        choices=[
            ("accept_all", gettext_lazy("Accept all")),
            ("reject_all", gettext_lazy("Reject all")),
            ("save", gettext_lazy("Save my choice")),
        ],
        error_messages={"invalid_choice": gettext_lazy("Choose one of the buttons.")},
    )
    analytics = forms.ChoiceField(
        label=gettext_lazy("Analytics cookies"),
        choices=[("1", gettext_lazy("Allow")), ("0", gettext_lazy("Do not allow"))],
        widget=forms.RadioSelect,
        required=False,
        error_messages={
            "invalid_choice": gettext_lazy("Choose whether to allow analytics cookies.")
        },
    )
    next = forms.CharField(required=False, max_length=2000)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (
            cleaned.get("action") == "save"
            and cleaned.get("analytics") not in ("0", "1")
            and "analytics" not in self.errors
        ):
            self.add_error("analytics", _("Choose whether to allow analytics cookies."))
        return cleaned

    def allows_analytics(self) -> bool:
        action = self.cleaned_data["action"]
        return action == "accept_all" or (
            action == "save" and self.cleaned_data["analytics"] == "1"
        )


def _cookies_page(request: HttpRequest, form: CookieChoiceForm, *, status: int) -> HttpResponse:
    register = cookies.cookie_register()
    return render(
        request,
        "privacy/cookies.html",
        {
            "form": form,
            "groups": [
                (cookies.CATEGORY_LABELS[category], [c for c in register if c.category == category])
                for category in cookies.CookieCategory
            ],
            "choice": cookies.cookie_choice(request),
            "signals": privacy_signals(request),
            "preference_wording": cookies.PREFERENCE_WORDING,
        },
        status=status,
    )


@require_GET
def cookies_page(request: HttpRequest) -> HttpResponse:
    choice = cookies.cookie_choice(request)
    initial = {"action": "save", "analytics": "1" if choice and choice.analytics else "0"}
    return _cookies_page(request, CookieChoiceForm(initial=initial), status=200)


@require_POST
def cookies_choice(request: HttpRequest) -> HttpResponse:
    """Accept all / reject all (the banner) or the saved preference (the cookies page), with the
    wording of the place it was made.

    Signed in: the choice goes to the person's consent ledger. Anonymous: its proof is kept on
    the server under the random id the consent cookie then holds (VisitorCookieChoice)."""
    form = CookieChoiceForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Your cookie choice was not saved: see the marked field."))
        return _cookies_page(request, form, status=400)
    analytics = form.allows_analytics()
    on_page = form.cleaned_data["action"] == "save"
    method = ConsentMethod.PREFERENCE_CENTER if on_page else ConsentMethod.BANNER
    wording = str(cookies.PREFERENCE_WORDING if on_page else cookies.BANNER_WORDING)
    choice_id = ""
    if request.user.is_authenticated:
        change = consents.consent_give if analytics else consents.consent_withdraw
        change(
            subject=request.user,
            purpose=ConsentPurpose.ANALYTICS,
            method=method,
            evidence=consents.consent_evidence(request=request, wording=wording),
        )
    else:
        choice_id = consents.visitor_cookie_choice_record(
            request=request, analytics=analytics, method=method, wording=wording
        ).choice_id
    response = HttpResponseRedirect(_safe_next(request, form.cleaned_data["next"]))
    cookies.cookie_choice_store(response, analytics=analytics, choice_id=choice_id)
    messages.success(
        request,
        _("Saved: analytics cookies are allowed.")
        if analytics
        else _("Saved: only essential cookies are used."),
    )
    return response


# Privacy center sections (called by templatetags/privacy_center.py)


def _note(state: consents.ConsentState, *, restricted: bool, signals: PrivacySignals) -> str:
    if state.action == ConsentAction.SUSPENDED:
        return _(
            "Suspended because a new edition of the privacy policy changed its terms. Give it "
            "again if you still agree."
        )
    if not state.given:
        return ""
    if restricted and state.purpose in consents.RESTRICTED_PURPOSES:
        return _("Paused while processing of your data is restricted.")
    if state.purpose == ConsentPurpose.RESEARCH and signals.gpc:
        return _("Your browser sends Global Privacy Control, so this stays off.")
    if state.purpose == ConsentPurpose.ANALYTICS and signals.dnt:
        return _("Your browser sends Do Not Track, so this stays off.")
    return ""


def _optin_row(request: AuthenticatedRequest, state: consents.ConsentState) -> dict[str, Any]:
    """The newsletter row's double opt-in: a link waiting for confirmation, or an address to
    verify first. Nothing to add while the consent is given."""
    if state.given:
        return {}
    optin_state = optin.newsletter_optin_state(subject=request.user)
    return {
        "optin_pending_since": optin_state.pending_since,
        "optin_needs_verified_address": not optin_state.address_verified,
    }


def _rows(request: AuthenticatedRequest, *, sharing: bool) -> list[dict[str, Any]]:
    signals = privacy_signals(request)
    restricted = consents.subject_is_restricted(subject=request.user)
    language_ru = (get_language() or "").startswith("ru")
    # The sharing rows (a section of their own) have no text-message row to explain.
    phone_missing = not sharing and promotional_sms.promotional_sms_phone_missing(
        subject=request.user
    )
    rows = []
    for state in consents.consent_state(subject=request.user):
        if (state.recipient is not None) != sharing:
            continue
        recipient = state.recipient
        needs_phone = state.purpose == ConsentPurpose.PROMOTIONAL_SMS and phone_missing
        rows.append(
            {
                **(_optin_row(request, state) if state.purpose in optin.CONFIRMED_BY_EMAIL else {}),
                "state": state,
                "description": consents.PURPOSE_DESCRIPTIONS.get(state.purpose, ""),
                "note": _note(state, restricted=restricted, signals=signals),
                "needs_phone": needs_phone,
                "recipient": recipient,
                "recipient_purpose": (
                    (recipient.purpose_ru if language_ru else recipient.purpose_en)
                    if recipient is not None
                    else ""
                ),
                "recipient_categories": [
                    str(CATEGORY_LABELS.get(category, category))
                    for category in (recipient.categories if recipient is not None else [])
                ],
                "offered": recipient is None
                or (recipient.is_active and recipient.shared_with_consent),
            }
        )
    return rows


def consents_section(request: AuthenticatedRequest) -> dict[str, Any]:
    return {
        "rows": _rows(request, sharing=False),
        "history": [
            (record, consents.evidence_described(record.evidence, method=record.method))
            for record in consents.consent_history(subject=request.user)[:200]
        ],
        "restricted": consents.subject_is_restricted(subject=request.user),
    }


def sharing_section(request: AuthenticatedRequest) -> dict[str, Any]:
    return {
        "rows": _rows(request, sharing=True),
        "restricted": consents.subject_is_restricted(subject=request.user),
    }


def restriction_section(request: AuthenticatedRequest) -> dict[str, Any]:
    return {"restriction": consents.restriction_current(subject=request.user)}


class ConsentChangeForm(Form):
    purpose = forms.ChoiceField(
        choices=ConsentPurpose.choices,
        error_messages={"invalid_choice": gettext_lazy("There is no such consent.")},
    )
    action = forms.ChoiceField(
        choices=[("give", gettext_lazy("Give")), ("withdraw", gettext_lazy("Withdraw"))],
        error_messages={"invalid_choice": gettext_lazy("Choose Give or Withdraw.")},
    )
    recipient = forms.ModelChoiceField(
        queryset=Recipient.objects.all(),
        required=False,
        error_messages={"invalid_choice": gettext_lazy("There is no such recipient.")},
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        purpose, recipient = cleaned.get("purpose"), cleaned.get("recipient")
        if (
            purpose == ConsentPurpose.SHARING
            and recipient is None
            and "recipient" not in self.errors
        ):
            self.add_error("recipient", _("Say which recipient the sharing choice is for."))
        if purpose and purpose != ConsentPurpose.SHARING and recipient is not None:
            self.add_error("recipient", _("Only sharing choices name a recipient."))
        return cleaned


def _center_error(request: HttpRequest, message: str) -> HttpResponse:
    """A refused or malformed click: say why, change nothing, lead back to the privacy center."""
    return render(request, "privacy/consent_error.html", {"message": message}, status=400)


def _first_error(form: forms.Form) -> str:
    for errors in form.errors.values():
        return str(errors[0])
    return _("The request was not understood.")


@login_required
@require_POST
def consent_change(request: AuthenticatedRequest) -> HttpResponse:
    """Give or withdraw one consent of the signed-in person; each is one click."""
    form = ConsentChangeForm(request.POST)
    if not form.is_valid():
        return _center_error(request, _first_error(form))
    purpose = ConsentPurpose(form.cleaned_data["purpose"])
    recipient: Recipient | None = form.cleaned_data["recipient"]
    give = form.cleaned_data["action"] == "give"
    if give and purpose in GIVEN_ON_PROFILE_PAGE:
        messages.info(
            request,
            _("Choose what your public profile shows, then publish it here."),
        )
        return redirect("privacy:public_profile_settings")
    if give and purpose in optin.CONFIRMED_BY_EMAIL:
        return _newsletter_optin_request(request)
    method = ConsentMethod.PREFERENCE_CENTER
    evidence = consents.consent_evidence(
        request=request, wording=consents.consent_wording(purpose=purpose, recipient=recipient)
    )
    try:
        if give and purpose == ConsentPurpose.PROMOTIONAL_SMS:
            promotional_sms.promotional_sms_consent_give(
                subject=request.user, method=method, evidence=evidence
            )
        elif give:
            consents.consent_give(
                subject=request.user,
                purpose=purpose,
                method=method,
                recipient=recipient,
                evidence=evidence,
            )
        else:
            consents.consent_withdraw(
                subject=request.user,
                purpose=purpose,
                method=method,
                recipient=recipient,
                evidence=evidence,
            )
    except DomainError as error:
        return _center_error(request, error.message)
    label = recipient.name if recipient is not None else str(purpose.label)
    messages.success(
        request,
        (_("Consent given: %(what)s.") if give else _("Consent withdrawn: %(what)s."))
        % {"what": label},
    )
    anchor = "#sharing" if purpose == ConsentPurpose.SHARING else "#consents"
    response = HttpResponseRedirect(reverse("privacy:center") + anchor)
    if purpose == ConsentPurpose.ANALYTICS:
        cookies.cookie_choice_store(response, analytics=give)
    return response


def _newsletter_optin_request(request: AuthenticatedRequest) -> HttpResponse:
    """ "Give" (or "Send again") for the newsletter e-mails a confirmation link instead of giving
    it (privacy/optin.py); each sends a message, so it is rate-limited."""
    refusal = rate_limit_hit(request, scope="consent_confirmation")
    if refusal is not None:
        return refusal_page(request, refusal)
    try:
        optin.newsletter_optin_request(
            subject=request.user, site_url=request.build_absolute_uri("/")
        )
    except DomainError as error:
        return _center_error(request, error.message)
    messages.success(
        request,
        _(
            "We have sent a confirmation link to your e-mail address. The newsletter starts "
            "once you open it and confirm."
        ),
    )
    return HttpResponseRedirect(reverse("privacy:center") + "#consents")


class RestrictionForm(Form):
    action = forms.ChoiceField(
        choices=[("start", gettext_lazy("Restrict")), ("lift", gettext_lazy("Lift"))],
        error_messages={"invalid_choice": gettext_lazy("Choose Restrict or Lift.")},
    )


@login_required
@require_POST
def restriction_change(request: AuthenticatedRequest) -> HttpResponse:
    form = RestrictionForm(request.POST)
    if not form.is_valid():
        return _center_error(request, _first_error(form))
    if form.cleaned_data["action"] == "start":
        consents.restriction_start(subject=request.user, method=ConsentMethod.PREFERENCE_CENTER)
        messages.success(
            request,
            _(
                "Processing is restricted: no newsletters, text messages, analytics, research or "
                "sharing until you lift it."
            ),
        )
    else:
        consents.restriction_lift(subject=request.user, method=ConsentMethod.PREFERENCE_CENTER)
        messages.success(request, _("The restriction is lifted: your consents apply again."))
    return HttpResponseRedirect(reverse("privacy:center") + "#restriction")
