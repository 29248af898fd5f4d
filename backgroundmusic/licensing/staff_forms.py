"""Parsing of the staff pages of plans and licence terms; the services check every rule again."""

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from backgroundmusic.core.forms import Form
from backgroundmusic.licensing.editions import (
    KIND_RULES,
    MAX_PRICE,
    MAX_QUANTITY,
    MAX_VAT_RATE,
    TITLE_MAX_LENGTH,
)
from backgroundmusic.licensing.models import PlanEdition, PlanKind, Territory

MARKDOWN = forms.Textarea(attrs={"rows": 8})
# Limits on what staff type: a plan's description is a few paragraphs, the terms a document.
DESCRIPTION_MAX_LENGTH = 10_000
BODY_MAX_LENGTH = 500_000
EFFECTIVE_AT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"]


def _effective_at_field() -> forms.DateTimeField:
    return forms.DateTimeField(
        label=_("Takes effect (UTC)"),
        required=False,
        input_formats=EFFECTIVE_AT_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty for “at once”. It cannot be in the past."),
    )


def _version_field() -> forms.CharField:
    return forms.CharField(
        label=_("Version"),
        max_length=32,
        help_text=_("Letters, digits, dots or hyphens, e.g. 2 or 2026-12-01."),
    )


def _price_field(label: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=Decimal(0),
        max_value=MAX_PRICE,
        max_digits=10,
        decimal_places=2,
        help_text=_("For one unit and one term, VAT not included."),
    )


class PlanForm(Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=40,
        help_text=_(
            "Lower-case Latin letters, digits and hyphens; the plan's address on /pricing/."
        ),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=PlanKind.choices)
    position = forms.IntegerField(
        label=_("Position on the pricing page"), min_value=0, max_value=32767, initial=0
    )


class PlanEditionForm(Form):
    """A new edition of a plan of `kind`: the uses offered are those the kind may grant; scope,
    term and unit follow from the kind and are not asked."""

    version = _version_field()
    effective_at = _effective_at_field()
    title_en = forms.CharField(label=_("Title in English"), max_length=TITLE_MAX_LENGTH)
    title_ru = forms.CharField(label=_("Title in Russian"), max_length=TITLE_MAX_LENGTH)
    description_en = forms.CharField(
        label=_("Description in English (Markdown)"),
        widget=MARKDOWN,
        max_length=DESCRIPTION_MAX_LENGTH,
    )
    description_ru = forms.CharField(
        label=_("Description in Russian (Markdown)"),
        widget=MARKDOWN,
        max_length=DESCRIPTION_MAX_LENGTH,
    )
    uses = forms.MultipleChoiceField(label=_("Uses granted"), widget=forms.CheckboxSelectMultiple)
    territory = forms.ChoiceField(label=_("Territory"), choices=Territory.choices)
    min_quantity = forms.IntegerField(
        label=_("Least quantity"), min_value=1, max_value=MAX_QUANTITY, initial=1
    )
    max_quantity = forms.IntegerField(
        label=_("Most quantity"), min_value=1, max_value=MAX_QUANTITY, initial=1
    )
    price_rub = _price_field(_("Price in roubles"))
    price_eur = _price_field(_("Price in euros"))
    vat_rate = forms.DecimalField(
        label=_("VAT rate, %"),
        min_value=Decimal(0),
        max_value=MAX_VAT_RATE,
        max_digits=4,
        decimal_places=2,
    )

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        uses = self.fields["uses"]
        assert isinstance(uses, forms.MultipleChoiceField)
        uses.choices = [(use.value, use.label) for use in KIND_RULES[kind].uses]
        # Markdown keeps its line breaks and indentation as typed.
        for name in ("description_en", "description_ru"):
            self.fields[name].strip = False  # type: ignore[attr-defined]

    @staticmethod
    def initial_from(edition: PlanEdition) -> dict[str, object]:
        """A copy of an edition, to edit into the next one (no version or date)."""
        return {
            "title_en": edition.title_en,
            "title_ru": edition.title_ru,
            "description_en": edition.description_en,
            "description_ru": edition.description_ru,
            "uses": list(edition.uses),
            "territory": edition.territory,
            "min_quantity": edition.min_quantity,
            "max_quantity": edition.max_quantity,
            "price_rub": edition.price_rub,
            "price_eur": edition.price_eur,
            "vat_rate": edition.vat_rate,
        }


class TermsEditionForm(Form):
    version = _version_field()
    effective_at = _effective_at_field()
    title_en = forms.CharField(label=_("Title in English"), max_length=TITLE_MAX_LENGTH)
    title_ru = forms.CharField(label=_("Title in Russian"), max_length=TITLE_MAX_LENGTH)
    body_en = forms.CharField(
        label=_("Text in English (Markdown)"),
        widget=forms.Textarea(attrs={"rows": 16}),
        max_length=BODY_MAX_LENGTH,
    )
    body_ru = forms.CharField(
        label=_("Text in Russian (Markdown)"),
        widget=forms.Textarea(attrs={"rows": 16}),
        max_length=BODY_MAX_LENGTH,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("body_en", "body_ru"):
            self.fields[name].strip = False  # type: ignore[attr-defined]
