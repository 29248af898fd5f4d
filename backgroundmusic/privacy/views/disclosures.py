"""The disclosure register for staff (privacy officer only) and the privacy-center section that
shows a person the disclosures about them."""

from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_countries import countries

from backgroundmusic.core.errors import DomainError
from backgroundmusic.core.forms import Form
from backgroundmusic.privacy import disclosures as register
from backgroundmusic.privacy.calendar import controller_today
from backgroundmusic.privacy.kernel.registry import DATA_CATEGORY_LABELS, Category
from backgroundmusic.privacy.models import Disclosure, LegalBasisForDisclosure, Recipient
from backgroundmusic.privacy.requests import subject_lookup
from backgroundmusic.privacy.transfers import is_cross_border
from backgroundmusic.staffroles.selectors import staff_may_record_disclosures

PAGE_SIZE = 50


def category_choices() -> list[tuple[str, Any]]:
    """The data map's categories with their labels, for a form's checkboxes."""
    return [(member.value, DATA_CATEGORY_LABELS.get(member, member.value)) for member in Category]


def category_labels(values: list[str]) -> list[Any]:
    known = {member.value: member for member in Category}
    return [DATA_CATEGORY_LABELS.get(known[v], v) if v in known else v for v in values]


class DisclosureForm(Form):
    subject = forms.CharField(
        label=gettext_lazy("Person: user id or username"),
        help_text=gettext_lazy("Only the user id and username are shown in the register."),
        max_length=150,
    )
    recipient = forms.ModelChoiceField(
        label=gettext_lazy("Recipient on the register"),
        help_text=gettext_lazy("Leave empty for a recipient not on the register (e.g. a court)."),
        queryset=Recipient.objects.filter(is_active=True).order_by("name"),
        required=False,
    )
    recipient_name = forms.CharField(
        label=gettext_lazy("Recipient's name"),
        help_text=gettext_lazy("Required unless a recipient on the register is chosen."),
        max_length=200,
        required=False,
    )
    country = forms.ChoiceField(
        label=gettext_lazy("Recipient's country"),
        help_text=gettext_lazy("Any country but Russia makes the transfer cross-border."),
        choices=(),
    )
    legal_basis = forms.ChoiceField(
        label=gettext_lazy("Legal basis"), choices=LegalBasisForDisclosure.choices
    )
    categories = forms.MultipleChoiceField(
        label=gettext_lazy("Data disclosed"),
        choices=(),
        widget=forms.CheckboxSelectMultiple,
    )
    reference_document = forms.CharField(
        label=gettext_lazy("Reference document"),
        help_text=gettext_lazy("The court decision, request, contract or consent it rests on."),
        max_length=300,
    )
    disclosed_on = forms.DateField(
        label=gettext_lazy("Date of the disclosure"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    legal_hold_until = forms.DateField(
        label=gettext_lazy("Legal hold until"),
        help_text=gettext_lazy(
            "Only when an order forbids telling the person for now: from this date on, the "
            "person sees the disclosure in the privacy center."
        ),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    legal_hold_reason = forms.CharField(
        label=gettext_lazy("Reason for the legal hold"),
        max_length=register.TEXT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", "—"), *countries]  # type: ignore[attr-defined]
        self.fields["categories"].choices = category_choices()  # type: ignore[attr-defined]

    def clean_subject(self) -> object:
        subject = subject_lookup(query=self.cleaned_data.get("subject", ""))
        if subject is None:
            raise forms.ValidationError(
                gettext_lazy("No account has this user id or username."), code="no_such_account"
            )
        return subject


def _recorder(request: HttpRequest) -> Any:
    if not staff_may_record_disclosures(actor=request.user):  # type: ignore[arg-type]
        raise PermissionDenied
    return request.user


def _row(disclosure: Disclosure) -> dict[str, Any]:
    return {
        "disclosure": disclosure,
        "cross_border": is_cross_border(disclosure.country.code),
        "categories": category_labels(list(disclosure.categories)),
        "hold_active": register.disclosure_hold_active(disclosure=disclosure),
    }


@login_required
@never_cache
@require_http_methods(["GET"])
def register_list(request: HttpRequest) -> HttpResponse:
    _recorder(request)
    page = Paginator(register.disclosures_register(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "staff/disclosures/register.html",
        {
            "page": page,
            "rows": [_row(d) for d in page.object_list],
        },
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def disclosure_new(request: HttpRequest) -> HttpResponse:
    actor = _recorder(request)
    if request.method == "POST":
        form = DisclosureForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                recorded = register.disclosure_record(
                    actor=actor,
                    subject=data["subject"],
                    recipient_name=data["recipient_name"],
                    recipient=data["recipient"],
                    country=data["country"],
                    legal_basis=data["legal_basis"],
                    categories=data["categories"],
                    reference_document=data["reference_document"],
                    disclosed_on=data["disclosed_on"],
                    legal_hold_until=data["legal_hold_until"],
                    legal_hold_reason=data["legal_hold_reason"],
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request, _("Disclosure #%(id)s is on the register.") % {"id": recorded.pk}
                )
                return redirect("privacy:staff_disclosures")
    else:
        initial_day: date = controller_today()
        form = DisclosureForm(initial={"disclosed_on": initial_day})
    return render(request, "staff/disclosures/new.html", {"form": form})


def disclosures_section(request: HttpRequest) -> dict[str, Any]:
    """Context of the privacy center's "Disclosures about you" section."""
    return {
        "disclosures": [
            {
                **_row(disclosure),
                "legal_basis": disclosure.get_legal_basis_display(),
                "country_name": disclosure.country.name,
            }
            for disclosure in register.disclosures_visible_to(subject=request.user)
        ]
    }
