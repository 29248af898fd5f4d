"""The contact phone: what a person types, read by the `phonenumbers` library (Google's
libphonenumber metadata) into one canonical form.

Stored in E.164 ("+79161234567"), shown in the international format ("+7 916 123-45-67"). A
number typed without "+" and a country code is read as Russian (8 916 …, 916 …). Any valid
number is accepted, landline included: it is a contact phone, and what can receive a text
message is the network's business, not ours. Letters (1-800-FLOWERS) and extensions are
refused, since nobody can send a text message to either.
"""

import re

import phonenumbers
from django.utils.translation import gettext as _

from backgroundmusic.core.errors import DomainError

DEFAULT_REGION = "RU"
# Longer than any real number written with spaces and brackets; libphonenumber stops at 250.
MAX_TYPED_LENGTH = 40
# What people type between the digits: spaces, dashes (the typographic ones too), brackets, dots.
_SEPARATORS = frozenset(" \u00a0\u2009\u202f-\u2010\u2011\u2012\u2013\u2014\u2212().")
E164 = re.compile(r"\+[1-9][0-9]{1,14}")

PHONE_EXAMPLE = "+7 916 123-45-67"


class PhoneRejected(DomainError):
    """A typed phone number that is not one; the message says what to fix."""


def _characters_allowed(text: str) -> bool:
    body = text[1:] if text.startswith("+") else text
    return all(char.isdecimal() or char in _SEPARATORS for char in body)


def phone_parse(text: str, *, region: str = DEFAULT_REGION) -> str:
    """The number typed, in E.164; raises PhoneRejected (never anything else) when it is not a
    valid phone number."""
    typed = text.strip()
    if len(typed) > MAX_TYPED_LENGTH or not _characters_allowed(typed):
        raise PhoneRejected(
            _("Use only digits, spaces, dashes and brackets, with + before the country code."),
            code="phone_characters",
        )
    try:
        number = phonenumbers.parse(typed, region)
    except phonenumbers.NumberParseException:
        number = None
    stored = ""
    if number is not None and phonenumbers.is_valid_number(number):
        stored = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    # E.164 is the library's promise for a valid number; checked, since it is what we store.
    if not E164.fullmatch(stored):
        raise PhoneRejected(
            _(
                "This is not a valid phone number: check the digits and the country code, "
                "e.g. %(example)s."
            )
            % {"example": PHONE_EXAMPLE},
            code="phone_invalid",
        )
    return stored


def phone_display(stored: str) -> str:
    """A stored E.164 number in the international format; "" for none."""
    if not stored:
        return ""
    try:
        number = phonenumbers.parse(stored, None)
    except phonenumbers.NumberParseException:
        return stored
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
