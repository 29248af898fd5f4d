"""Every project form, allauth's included, puts its text fields under core.text's rules through
`TextRulesMixin`: a refused character is a form error on its field, and the form is shown again
with what was typed."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.deconstruct import deconstructible

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


class TextRulesMixin:
    """Put before the form class: `class SomeForm(TextRulesMixin, forms.Form)`.

    The rules go onto the fields when the form is cleaned, not when it is built, so that fields a
    form adds or replaces in its own __init__ (allauth's do) are covered too."""

    fields: dict[str, forms.Field]

    def full_clean(self) -> None:
        for field in self.fields.values():
            text_rules_install(field)
        super().full_clean()  # type: ignore[misc]


class Form(TextRulesMixin, forms.Form):
    """The base of the project's forms."""
