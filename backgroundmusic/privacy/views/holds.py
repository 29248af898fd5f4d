"""Legal holds for staff (privacy officer only): the holds in force and ended, placing one on a
person or a record, lifting one."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from backgroundmusic.core.errors import DomainError
from backgroundmusic.core.forms import Form
from backgroundmusic.privacy import holds
from backgroundmusic.privacy.requests import subject_lookup
from backgroundmusic.staffroles.selectors import staff_may_place_legal_holds

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class HoldPlaceForm(Form):
    TARGETS = (
        ("person", gettext_lazy("A person: every record about them")),
        ("record", gettext_lazy("One record")),
    )
    target = forms.ChoiceField(
        label=gettext_lazy("What to hold"), choices=TARGETS, widget=forms.RadioSelect
    )
    subject = forms.CharField(
        label=gettext_lazy("Person: user id or username"), max_length=150, required=False
    )
    target_label = forms.ChoiceField(
        label=gettext_lazy("Kind of record"), choices=(), required=False
    )
    target_id = forms.CharField(label=gettext_lazy("Record id"), max_length=64, required=False)
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        help_text=gettext_lazy("The case, order or claim that requires keeping the data."),
        max_length=holds.REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    ends_on = forms.DateField(label=gettext_lazy("Ends on"), widget=DATE_WIDGET)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target_label"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *((label, label) for label in holds.holdable_labels()),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("target") == "person":
            subject = subject_lookup(query=data.get("subject", ""))
            if subject is None:
                self.add_error("subject", gettext_lazy("No account has this user id or username."))
            data["subject_user"] = subject
        return data


class HoldLiftForm(Form):
    reason = forms.CharField(
        label=gettext_lazy("Why lift it now"),
        max_length=holds.REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _officer(request: HttpRequest) -> Any:
    if not staff_may_place_legal_holds(actor=request.user):  # type: ignore[arg-type]
        raise PermissionDenied
    return request.user


def _page(
    request: HttpRequest,
    actor: Any,
    *,
    form: HoldPlaceForm,
    lift_errors: tuple[int, HoldLiftForm] | None = None,
) -> HttpResponse:
    lists = holds.legal_holds_for_staff(actor=actor)
    lift_forms = {hold.pk: HoldLiftForm(prefix=f"lift-{hold.pk}") for hold in lists.in_force}
    if lift_errors is not None:
        lift_forms[lift_errors[0]] = lift_errors[1]
    return render(
        request,
        "staff/legal_holds.html",
        {
            "form": form,
            "in_force": [(hold, lift_forms[hold.pk]) for hold in lists.in_force],
            "ended": lists.ended,
        },
        status=400 if form.errors or lift_errors else 200,
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def holds_page(request: HttpRequest) -> HttpResponse:
    actor = _officer(request)
    if request.method != "POST":
        return _page(request, actor, form=HoldPlaceForm(initial={"target": "person"}))
    form = HoldPlaceForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        person = data["target"] == "person"
        try:
            hold = holds.legal_hold_place(
                actor=actor,
                reason=data["reason"],
                ends_on=data["ends_on"],
                subject=data.get("subject_user") if person else None,
                target_label="" if person else data["target_label"],
                target_id="" if person else data["target_id"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Legal hold #%(id)s is in force.") % {"id": hold.pk})
            return redirect("privacy:staff_legal_holds")
    return _page(request, actor, form=form)


@login_required
@never_cache
@require_http_methods(["POST"])
def hold_lift(request: HttpRequest, hold_id: int) -> HttpResponse:
    actor = _officer(request)
    hold = holds.legal_hold_by_id(hold_id=hold_id)
    if hold is None:
        raise Http404
    form = HoldLiftForm(request.POST, prefix=f"lift-{hold.pk}")
    if form.is_valid():
        try:
            holds.legal_hold_lift(actor=actor, hold=hold, reason=form.cleaned_data["reason"])
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Legal hold #%(id)s is lifted.") % {"id": hold.pk})
            return redirect("privacy:staff_legal_holds")
    blank = HoldPlaceForm(initial={"target": "person"})
    return _page(request, actor, form=blank, lift_errors=(hold.pk, form))
