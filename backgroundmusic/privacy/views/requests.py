"""Staff pages for data-subject requests received by e-mail or letter (privacy officer only):
the inbox by nearest deadline, logging a request, and one page per request to link the account,
verify identity, extend, act and close."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.core.forms import Form
from backgroundmusic.privacy import requests as dsr
from backgroundmusic.privacy.calendar import CONTROLLER_TIME_ZONE
from backgroundmusic.privacy.kernel.access_log import access_log_record
from backgroundmusic.privacy.kernel.models import ACCESS_REASON_MAX_LENGTH
from backgroundmusic.privacy.models import (
    ConsentPurpose,
    DataSubjectRequest,
    Recipient,
    RequestKind,
)
from backgroundmusic.staffroles.selectors import staff_may_handle_requests

# Forms: parse and validate only


class SubjectField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", gettext_lazy("Account: user id or username"))
        kwargs.setdefault("max_length", 150)
        super().__init__(**kwargs)


def _clean_subject(value: str) -> object | None:
    if not value.strip():
        return None
    subject = dsr.subject_lookup(query=value)
    if subject is None:
        raise forms.ValidationError(
            gettext_lazy("No account has this user id or username."), code="no_such_account"
        )
    return subject


class RequestLogForm(Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind of request"), choices=RequestKind.choices)
    channel = forms.ChoiceField(
        label=gettext_lazy("Arrived by"),
        choices=[
            choice
            for choice in DataSubjectRequest.Channel.choices
            if choice[0] != DataSubjectRequest.Channel.WEB_FORM
        ],
    )
    received_at = forms.DateTimeField(
        label=gettext_lazy("Received (Moscow time)"),
        help_text=gettext_lazy("The deadlines run from the day of receipt."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    requester_contact = forms.CharField(
        label=gettext_lazy("How to answer the requester"),
        help_text=gettext_lazy("The e-mail or postal address the answer goes to."),
        max_length=dsr.REQUESTER_CONTACT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    subject = SubjectField(
        required=False,
        help_text=gettext_lazy("Optional: link the account now if you already know it."),
    )

    def clean_subject(self) -> object | None:
        return _clean_subject(self.cleaned_data.get("subject", ""))

    def clean_received_at(self) -> object:
        received_at = self.cleaned_data["received_at"]
        problem = dsr.received_at_problem(received_at)
        if problem is not None:
            raise forms.ValidationError(problem.message, code=problem.code)
        return received_at

    def is_valid(self) -> bool:
        # The date and time typed in are Moscow time, like every time on these pages.
        with timezone.override(CONTROLLER_TIME_ZONE):
            return super().is_valid()


class LinkForm(Form):
    subject = SubjectField()

    def clean_subject(self) -> object | None:
        return _clean_subject(self.cleaned_data.get("subject", ""))


class VerifyForm(Form):
    verified = forms.TypedChoiceField(
        choices=[("yes", "yes"), ("no", "no")], coerce=lambda value: value == "yes"
    )


class ExtendForm(Form):
    # The limits the law sets are the service's to enforce, with its own words: the fields only
    # take whole numbers.
    ru_working_days = forms.IntegerField(
        label=gettext_lazy("Extend the 152-FZ deadline by (working days, at most 5)"),
        min_value=0,
        max_value=99,
        required=False,
    )
    gdpr_months = forms.IntegerField(
        label=gettext_lazy("Extend the GDPR deadline by (months, at most 2)"),
        min_value=0,
        max_value=99,
        required=False,
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason for the extension"),
        help_text=gettext_lazy("Sent to the requester with the notice of the extension."),
        max_length=dsr.REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ActForm(Form):
    action = forms.ChoiceField(label=gettext_lazy("Action"), choices=())
    purpose = forms.ChoiceField(
        label=gettext_lazy("Consent to withdraw"),
        choices=[("", "—"), *ConsentPurpose.choices],
        required=False,
    )
    recipient = forms.ModelChoiceField(
        label=gettext_lazy("Recipient (for sharing only)"),
        queryset=Recipient.objects.order_by("name"),
        required=False,
    )

    def __init__(self, *args: Any, actions: tuple[dsr.RequestAction, ...], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [(a.value, dsr.ACTION_LABELS[a]) for a in actions]  # type: ignore[attr-defined]


class CloseForm(Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Result"),
        choices=[
            (DataSubjectRequest.Status.DONE, DataSubjectRequest.Status.DONE.label),
            (DataSubjectRequest.Status.REFUSED, DataSubjectRequest.Status.REFUSED.label),
        ],
    )
    outcome = forms.CharField(
        label=gettext_lazy("Outcome"),
        help_text=gettext_lazy("What was done, or why the request was refused."),
        max_length=dsr.REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    delay_explanation = forms.CharField(
        label=gettext_lazy("Why the answer is late"),
        help_text=gettext_lazy("Required when a deadline has passed."),
        max_length=dsr.REASON_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ContactForm(Form):
    reason = forms.CharField(
        label=gettext_lazy("Why do you need the requester's contact?"),
        help_text=gettext_lazy("Written to the access log with your name."),
        min_length=5,
        max_length=ACCESS_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _handler(request: HttpRequest) -> Any:
    """The signed-in privacy officer, or 403."""
    if not staff_may_handle_requests(actor=request.user):  # type: ignore[arg-type]
        raise PermissionDenied
    return request.user


@login_required
@never_cache
@require_http_methods(["GET"])
def inbox(request: HttpRequest) -> HttpResponse:
    _handler(request)
    include_closed = request.GET.get("closed") == "1"
    return render(
        request,
        "staff/requests/inbox.html",
        {
            "entries": dsr.requests_inbox(include_closed=include_closed),
            "include_closed": include_closed,
        },
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest) -> HttpResponse:
    actor = _handler(request)
    if request.method == "POST":
        form = RequestLogForm(request.POST)
        if form.is_valid():
            try:
                logged = dsr.request_log(
                    actor=actor,
                    kind=form.cleaned_data["kind"],
                    channel=form.cleaned_data["channel"],
                    received_at=form.cleaned_data["received_at"],
                    subject=form.cleaned_data["subject"],
                    requester_contact=form.cleaned_data["requester_contact"],
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("Request #%(id)s is logged.") % {"id": logged.pk})
                return redirect("privacy:staff_request", request_id=logged.pk)
    else:
        now = clock.now().astimezone(CONTROLLER_TIME_ZONE).replace(second=0, microsecond=0)
        form = RequestLogForm(initial={"received_at": now.replace(tzinfo=None)})
    return render(request, "staff/requests/new.html", {"form": form})


# The operations of the request page: POST field "op" → form class.
OPERATIONS = {
    "link": LinkForm,
    "verify": VerifyForm,
    "extend": ExtendForm,
    "act": ActForm,
    "close": CloseForm,
    "contact": ContactForm,
}


def _forms_for(
    subject_request: DataSubjectRequest, op: str | None, data: Any
) -> dict[str, forms.Form]:
    actions = dsr.request_actions_available(request=subject_request)
    built: dict[str, forms.Form] = {}
    for name, form_class in OPERATIONS.items():
        bound = data if name == op else None
        if form_class is ActForm:
            built[name] = ActForm(bound, actions=actions, prefix=name)
        else:
            built[name] = form_class(bound, prefix=name)
    return built


def _run(
    op: str, form: forms.Form, actor: Any, subject_request: DataSubjectRequest, site_url: str
) -> tuple[str, Any]:
    """Runs one operation; returns (success message, revealed contact or None)."""
    data = form.cleaned_data
    if op == "link":
        dsr.request_link_subject(actor=actor, request=subject_request, subject=data["subject"])
        return _("The request is linked to the account."), None
    if op == "verify":
        dsr.request_verify_identity(actor=actor, request=subject_request, verified=data["verified"])
        if data["verified"]:
            return _("The requester's identity is recorded as verified."), None
        return _("The requester's identity is recorded as not verified."), None
    if op == "extend":
        extended = dsr.request_extend(
            actor=actor,
            request=subject_request,
            reason=data["reason"],
            ru_working_days=data["ru_working_days"] or 0,
            gdpr_months=data["gdpr_months"] or 0,
        )
        return (
            _(
                "The deadlines are now %(due_ru)s (152-FZ) and %(due_gdpr)s (GDPR); the notice "
                "with the reason is on its way to the requester."
            )
            % {
                "due_ru": dsr.effective_due_ru(extended).isoformat(),
                "due_gdpr": dsr.effective_due_gdpr(extended).isoformat(),
            },
            None,
        )
    if op == "act":
        dsr.request_act(
            actor=actor,
            request=subject_request,
            action=data["action"],
            purpose=data["purpose"] or None,
            recipient=data["recipient"],
            site_url=site_url,
        )
        return _("Done: %(action)s.") % {
            "action": dsr.ACTION_LABELS[dsr.RequestAction(data["action"])]
        }, None
    if op == "close":
        dsr.request_close(
            actor=actor,
            request=subject_request,
            outcome=data["outcome"],
            status=data["status"],
            delay_explanation=data["delay_explanation"],
        )
        return _("The request is closed."), None
    # contact: show the requester's contact, after writing the reading to the access log.
    access_log_record(
        actor=actor,
        subject_id=subject_request.subject_id or 0,
        fields=["requester_contact"],
        reason=f"Request #{subject_request.pk}: {data['reason']}",
    )
    return "", subject_request.requester_contact


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def request_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    actor = _handler(request)
    subject_request = dsr.request_get(request_id=request_id)
    if subject_request is None:
        raise Http404
    op = request.POST.get("op") if request.method == "POST" else None
    if op is not None and op not in OPERATIONS:
        op = None
        messages.error(request, _("Unknown operation: nothing was changed."))
    built = _forms_for(subject_request, op, request.POST if op else None)
    contact = None
    if op is not None:
        form = built[op]
        if form.is_valid():
            try:
                site_url = request.build_absolute_uri("/").rstrip("/")
                message, contact = _run(op, form, actor, subject_request, site_url)
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                if contact is None:
                    messages.success(request, message)
                    return redirect("privacy:staff_request", request_id=subject_request.pk)
    subject_request.refresh_from_db()
    can_extend_ru, can_extend_gdpr = dsr.request_extensions_open(request=subject_request)
    return render(
        request,
        "staff/requests/detail.html",
        {
            "item": subject_request,
            "deadlines": dsr.request_deadlines(request=subject_request),
            "late": subject_request.status == DataSubjectRequest.Status.OPEN
            and dsr.request_is_late(request=subject_request),
            "actions": dsr.request_actions_available(request=subject_request),
            "forms": built,
            "op": op,
            "contact": contact,
            "late_marker": dsr.LATE_ANSWER_MARKER,
            "notices": dsr.extension_notices(request=subject_request),
            "can_extend_ru": can_extend_ru,
            "can_extend_gdpr": can_extend_gdpr,
        },
    )
