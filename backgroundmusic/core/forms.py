"""Every project form, allauth's included, puts its text fields under core.text's rules through
`TextRulesMixin`: a refused character is a form error on its field, and the form is shown again
with what was typed. The same mixin keeps typed numbers and dates within what can be stored and
computed with (`edge_bounds_install`), so an overlong number or a date at the calendar's ends is
an error on its field too, never a 500 when it is saved or a deadline is counted from it."""

from datetime import date, datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxValueValidator,
    MinValueValidator,
    ProhibitNullCharactersValidator,
)
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _

from backgroundmusic.core.text import TextKind, text_refusal


@deconstructible
class TextValidator:
    def __init__(self, kind: TextKind = TextKind.LINE) -> None:
        self.kind = kind

    def __call__(self, value: Any) -> None:
        refusal = text_refusal(str(value), self.kind)
        if refusal is not None:
            raise ValidationError(refusal.message, code=refusal.code)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TextValidator) and other.kind == self.kind


def text_kind(field: forms.Field) -> TextKind:
    """A password needs only be storable (it is hashed, never shown); a text area is multi-line
    text; any other text field is one line."""
    if isinstance(field.widget, forms.PasswordInput):
        return TextKind.STORABLE
    if isinstance(field.widget, forms.Textarea):
        return TextKind.TEXT
    return TextKind.LINE


def text_rules_install(field: forms.Field) -> None:
    """Puts a text field under the rules, first among its validators (once); the rules name NUL
    themselves, so Django's own NUL validator goes."""
    if not isinstance(field, forms.CharField):
        return
    if any(isinstance(validator, TextValidator) for validator in field.validators):
        return
    field.validators = [
        TextValidator(text_kind(field)),
        *(v for v in field.validators if not isinstance(v, ProhibitNullCharactersValidator)),
    ]


# A 32-bit integer column, the smallest any of our databases gives an integer field, holds these.
INTEGER_MIN = -(2**31)
INTEGER_MAX = 2**31 - 1
# Dates typed into a form: far enough from year 1 (which a time zone turns into year 0) and from
# 9999 (past which a deadline or a retention period cannot be counted).
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2999, 12, 31)


@deconstructible
class DateRangeValidator:
    def __call__(self, value: date) -> None:
        day = value.date() if isinstance(value, datetime) else value
        if not EARLIEST_DATE <= day <= LATEST_DATE:
            raise ValidationError(
                _("Enter a date between %(earliest)s and %(latest)s.")
                % {"earliest": EARLIEST_DATE.isoformat(), "latest": LATEST_DATE.isoformat()},
                code="date_out_of_range",
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DateRangeValidator)


def edge_bounds_install(field: forms.Field) -> None:
    """Bounds an integer field without bounds of its own to INTEGER_MIN..INTEGER_MAX, and a date
    or date-time field to EARLIEST_DATE..LATEST_DATE (once)."""
    if isinstance(field, forms.IntegerField) and not isinstance(
        field, forms.FloatField | forms.DecimalField
    ):
        if field.max_value is None:
            field.max_value = INTEGER_MAX
            field.validators.append(MaxValueValidator(INTEGER_MAX))
        if field.min_value is None:
            field.min_value = INTEGER_MIN
            field.validators.append(MinValueValidator(INTEGER_MIN))
    if isinstance(field, forms.DateField | forms.DateTimeField) and not any(
        isinstance(validator, DateRangeValidator) for validator in field.validators
    ):
        field.validators.append(DateRangeValidator())


class TextRulesMixin:
    """Put before the form class: `class SomeForm(TextRulesMixin, forms.Form)`.

    The rules go onto the fields when the form is cleaned, not when it is built, so that fields a
    form adds or replaces in its own __init__ (allauth's do) are covered too."""

    fields: dict[str, forms.Field]

    def full_clean(self) -> None:
        for field in self.fields.values():
            text_rules_install(field)
            edge_bounds_install(field)
        super().full_clean()  # type: ignore[misc]


class Form(TextRulesMixin, forms.Form):
    """The base of the project's forms."""
