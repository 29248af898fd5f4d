"""The register of recipients: the privacy officer's page listing every recipient (add one,
deactivate or reactivate one) and the page that changes one."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_countries import countries

from backgroundmusic.core.errors import DomainError
from backgroundmusic.core.forms import Form
from backgroundmusic.privacy import recipients
from backgroundmusic.privacy.models import Recipient
from backgroundmusic.privacy.views.disclosures import category_choices, category_labels
from backgroundmusic.staffroles.selectors import staff_may_manage_transfers


class RecipientForm(Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=recipients.NAME_MAX_LENGTH)
    country = forms.ChoiceField(
        label=gettext_lazy("Country"),
        help_text=gettext_lazy(
            "Where the recipient processes the data. Any country but Russia makes it a transfer "
            "abroad, which needs a transfer record."
        ),
        choices=(),
    )
    purpose_en = forms.CharField(
        label=gettext_lazy("Purpose (English)"),
        max_length=recipients.PURPOSE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    purpose_ru = forms.CharField(
        label=gettext_lazy("Purpose (Russian)"),
        max_length=recipients.PURPOSE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    categories = forms.MultipleChoiceField(
        label=gettext_lazy("Data it receives"),
        choices=(),
        widget=forms.CheckboxSelectMultiple,
    )
    shared_with_consent = forms.BooleanField(
        label=gettext_lazy("Shared only with the person's consent"),
        help_text=gettext_lazy("Offered to each person as a sharing switch in the privacy center."),
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", "—"), *countries]  # type: ignore[attr-defined]
        self.fields["categories"].choices = category_choices()  # type: ignore[attr-defined]


def _keeper(request: HttpRequest) -> Any:
    if not staff_may_manage_transfers(actor=request.user):  # type: ignore[arg-type]
        raise PermissionDenied
    return request.user


def _initial(recipient: Recipient) -> dict[str, Any]:
    return {
        "name": recipient.name,
        "country": recipient.country.code,
        "purpose_en": recipient.purpose_en,
        "purpose_ru": recipient.purpose_ru,
        "categories": list(recipient.categories),
        "shared_with_consent": recipient.shared_with_consent,
    }


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def recipients_page(request: HttpRequest) -> HttpResponse:
    actor = _keeper(request)
    form = RecipientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            added = recipients.recipient_add(actor=actor, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, _("%(name)s is on the register of recipients.") % {"name": added.name}
            )
            return redirect("privacy:staff_recipients")
    rows = [
        {"recipient": recipient, "categories": category_labels(list(recipient.categories))}
        for recipient in recipients.recipients_register()
    ]
    return render(request, "staff/recipients.html", {"form": form, "rows": rows})


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def recipient_edit(request: HttpRequest, recipient_id: int) -> HttpResponse:
    actor = _keeper(request)
    recipient = get_object_or_404(Recipient, pk=recipient_id)
    form = RecipientForm(request.POST or None, initial=_initial(recipient))
    if request.method == "POST" and form.is_valid():
        try:
            recipients.recipient_update(actor=actor, recipient=recipient, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The recipient's entry is saved."))
            return redirect("privacy:staff_recipients")
    return render(request, "staff/recipient_edit.html", {"form": form, "recipient": recipient})


@login_required
@never_cache
@require_POST
def recipient_deactivate(request: HttpRequest, recipient_id: int) -> HttpResponse:
    actor = _keeper(request)
    recipient = get_object_or_404(Recipient, pk=recipient_id)
    try:
        recipients.recipient_deactivate(actor=actor, recipient=recipient)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("%(name)s is deactivated.") % {"name": recipient.name})
    return redirect("privacy:staff_recipients")


@login_required
@never_cache
@require_POST
def recipient_reactivate(request: HttpRequest, recipient_id: int) -> HttpResponse:
    actor = _keeper(request)
    recipient = get_object_or_404(Recipient, pk=recipient_id)
    try:
        recipients.recipient_reactivate(actor=actor, recipient=recipient)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("%(name)s is active again.") % {"name": recipient.name})
    return redirect("privacy:staff_recipients")
