"""Transfers abroad: the privacy officer's page of transfer records (record one, end one) and
the privacy center's "Transfers abroad" section."""

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
from backgroundmusic.privacy import transfers
from backgroundmusic.privacy.models import Recipient, TransferBasis, TransferRecord
from backgroundmusic.staffroles.selectors import staff_may_manage_transfers


class TransferForm(Form):
    recipient = forms.ModelChoiceField(
        label=gettext_lazy("Recipient on the register"),
        queryset=Recipient.objects.filter(is_active=True).order_by("name"),
    )
    country = forms.ChoiceField(label=gettext_lazy("Country of the transfer"), choices=())
    basis = forms.ChoiceField(label=gettext_lazy("Basis"), choices=TransferBasis.choices)
    safeguards = forms.CharField(
        label=gettext_lazy("Safeguards"),
        help_text=gettext_lazy("The contract clauses, encryption and other measures."),
        max_length=transfers.SAFEGUARDS_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    authority_notified_on = forms.DateField(
        label=gettext_lazy("Date the authority was notified"),
        help_text=gettext_lazy(
            "To a country without adequate protection the transfer starts 10 working days "
            "after this date."
        ),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *[(code, name) for code, name in countries if code != "RU"],
        ]


def _manager(request: HttpRequest) -> Any:
    if not staff_may_manage_transfers(actor=request.user):  # type: ignore[arg-type]
        raise PermissionDenied
    return request.user


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def transfers_page(request: HttpRequest) -> HttpResponse:
    actor = _manager(request)
    form = TransferForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            recorded = transfers.transfer_record_add(
                actor=actor,
                recipient=data["recipient"],
                country=data["country"],
                basis=data["basis"],
                safeguards=data["safeguards"],
                authority_notified_on=data["authority_notified_on"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, _("Transfer record #%(id)s is recorded.") % {"id": recorded.pk}
            )
            return redirect("privacy:staff_transfers")
    return render(
        request,
        "staff/transfers.html",
        {"form": form, "records": transfers.transfers_register()},
    )


@login_required
@never_cache
@require_POST
def transfer_end(request: HttpRequest, record_id: int) -> HttpResponse:
    actor = _manager(request)
    record = get_object_or_404(TransferRecord, pk=record_id)
    try:
        transfers.transfer_record_end(actor=actor, record=record)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Transfer record #%(id)s has ended.") % {"id": record.pk})
    return redirect("privacy:staff_transfers")


def transfers_section(request: HttpRequest) -> dict[str, Any]:
    """Context of the privacy center's "Transfers abroad" section."""
    return {"transfers": transfers.transfers_of(subject=request.user)}
