"""Parsing and validation of the public catalogue search (GET); staff editing: staff_forms.py."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from backgroundmusic.catalog.models import Genre, Instrument, Mood
from backgroundmusic.catalog.selectors import MAX_QUERY_LENGTH, facet_name
from backgroundmusic.core.forms import Form

SORT_CHOICES = [
    ("relevance", _("Relevance")),
    ("title", _("Title")),
    ("newest", _("Newest")),
    ("bpm", _("Tempo")),
    ("duration", _("Duration")),
]


class FacetChoiceField(forms.ModelMultipleChoiceField):
    """Checkboxes of one facet vocabulary, chosen by slug and labelled in the active language."""

    def __init__(self, *, label: Any, model: Any) -> None:
        super().__init__(
            label=label,
            queryset=model.objects.all(),
            to_field_name="slug",
            required=False,
            widget=forms.CheckboxSelectMultiple,
        )

    def label_from_instance(self, obj: Any) -> str:
        return facet_name(obj)


class CatalogueSearchForm(Form):
    """The /catalog/ query string. Facets by slug; every field optional."""

    q = forms.CharField(label=_("Search"), required=False, max_length=MAX_QUERY_LENGTH)
    genre = FacetChoiceField(label=_("Genre"), model=Genre)
    mood = FacetChoiceField(label=_("Mood"), model=Mood)
    instrument = FacetChoiceField(label=_("Instrumentation"), model=Instrument)
    bpm_min = forms.IntegerField(
        label=_("Tempo from (BPM)"), required=False, min_value=0, max_value=1000
    )
    bpm_max = forms.IntegerField(
        label=_("Tempo to (BPM)"), required=False, min_value=0, max_value=1000
    )
    energy_min = forms.IntegerField(
        label=_("Energy from"), required=False, min_value=1, max_value=10
    )
    energy_max = forms.IntegerField(label=_("Energy to"), required=False, min_value=1, max_value=10)
    duration_min = forms.IntegerField(
        label=_("Duration from (seconds)"), required=False, min_value=0, max_value=86400
    )
    duration_max = forms.IntegerField(
        label=_("Duration to (seconds)"), required=False, min_value=0, max_value=86400
    )
    sort = forms.ChoiceField(label=_("Sort by"), choices=SORT_CHOICES, required=False)
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("genre", "mood", "instrument"):
            self.fields[name].error_messages["invalid_choice"] = _(
                "“%(value)s” is not one of the choices."
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for low, high, label in (
            ("bpm_min", "bpm_max", _("Tempo")),
            ("energy_min", "energy_max", _("Energy")),
            ("duration_min", "duration_max", _("Duration")),
        ):
            both = data.get(low) is not None and data.get(high) is not None
            if both and data[low] > data[high]:
                raise ValidationError(
                    _("%(label)s: “from” is greater than “to”."), params={"label": label}
                )
        return data

    def search_arguments(self) -> dict[str, Any]:
        """Keyword arguments for selectors.track_search from the cleaned data."""
        data = self.cleaned_data
        return {
            "query": data.get("q") or "",
            "genres": [facet.slug for facet in data.get("genre") or []],
            "moods": [facet.slug for facet in data.get("mood") or []],
            "instruments": [facet.slug for facet in data.get("instrument") or []],
            "bpm_min": data.get("bpm_min"),
            "bpm_max": data.get("bpm_max"),
            "energy_min": data.get("energy_min"),
            "energy_max": data.get("energy_max"),
            "duration_min": data.get("duration_min"),
            "duration_max": data.get("duration_max"),
            "sort": data.get("sort") or "relevance",
            "page": data.get("page") or 1,
        }
