"""Parsing of the incident pages; the services check every rule again. Times are typed in
Moscow time, like the times these pages show."""

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backgroundmusic.core.forms import Form
from backgroundmusic.incidents.drafts import SUBJECT_MAX
from backgroundmusic.incidents.people import model_label_text, personal_models
from backgroundmusic.incidents.services import (
    REFERENCE_MAX,
    TEXT_MAX,
    IncidentFacts,
    NoticeText,
)
from backgroundmusic.privacy.calendar import CONTROLLER_TIME_ZONE
from backgroundmusic.privacy.kernel.registry import DATA_CATEGORY_LABELS, Category

MOMENT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


def _moment_field(label: Any, *, required: bool) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        input_formats=MOMENT_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


def _text_field(label: Any, help_text: Any = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=help_text,
    )


def _model_choices() -> list[tuple[str, str]]:
    return [
        (declaration.label, model_label_text(declaration.label))
        for declaration in personal_models()
    ]


def _category_choices() -> list[tuple[str, Any]]:
    return [(category.value, DATA_CATEGORY_LABELS[category]) for category in Category]


class MoscowTimeForm(Form):
    def is_valid(self) -> bool:
        with timezone.override(CONTROLLER_TIME_ZONE):
            return super().is_valid()


class IncidentForm(MoscowTimeForm):
    summary = forms.CharField(label=_("Summary"), max_length=200, help_text=_("One line."))
    description = _text_field(_("What happened"))
    detected_at = _moment_field(_("Detected at (Moscow time)"), required=True)
    occurred_from = _moment_field(_("Data exposed from (Moscow time)"), required=False)
    occurred_until = _moment_field(_("Data exposed until (Moscow time)"), required=False)
    affected_models = forms.MultipleChoiceField(
        label=_("Affected data"),
        required=False,
        choices=_model_choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Every category of a table named is affected. With an exposure window, only the rows "
            "whose retention clock falls in it count."
        ),
    )
    affected_categories = forms.MultipleChoiceField(
        label=_("Affected categories"),
        required=False,
        choices=_category_choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("A category named affects every table that holds it."),
    )
    eu_residents = forms.BooleanField(
        label=_("Residents of the EU may be affected (the GDPR notice applies)"), required=False
    )
    estimated_people = forms.IntegerField(
        label=_("Estimated number of people"),
        required=False,
        min_value=0,
        help_text=_("When people outside our records may be affected too; leave empty if unknown."),
    )
    consequences = _text_field(_("Likely consequences"))
    measures = _text_field(_("Measures taken or proposed"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("affected_models") and not data.get("affected_categories"):
            raise forms.ValidationError(
                _("Name the affected data, or at least one category."), code="nothing_affected"
            )
        return data

    def facts(self) -> IncidentFacts:
        data = self.cleaned_data
        return IncidentFacts(
            summary=data["summary"],
            description=data["description"],
            consequences=data["consequences"],
            measures=data["measures"],
            detected_at=data["detected_at"],
            occurred_from=data["occurred_from"],
            occurred_until=data["occurred_until"],
            affected_models=list(data["affected_models"]),
            affected_categories=list(data["affected_categories"]),
            eu_residents=data["eu_residents"],
            estimated_people=data["estimated_people"],
        )


class NoticeForm(Form):
    subject_en = forms.CharField(label=_("Subject in English"), max_length=SUBJECT_MAX)
    text_en = forms.CharField(
        label=_("Text in English"),
        max_length=TEXT_MAX,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 16}),
    )
    subject_ru = forms.CharField(label=_("Subject in Russian"), max_length=SUBJECT_MAX)
    text_ru = forms.CharField(
        label=_("Text in Russian"),
        max_length=TEXT_MAX,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 16}),
    )

    def text(self) -> NoticeText:
        data = self.cleaned_data
        return NoticeText(
            subject_en=data["subject_en"],
            subject_ru=data["subject_ru"],
            text_en=data["text_en"],
            text_ru=data["text_ru"],
        )


class NoticeSentForm(MoscowTimeForm):
    sent_at = _moment_field(_("Sent at (Moscow time)"), required=True)
    reference = forms.CharField(
        label=_("Reference"),
        max_length=REFERENCE_MAX,
        required=False,
        help_text=_("The registration number or receipt the authority gave, if any."),
    )
