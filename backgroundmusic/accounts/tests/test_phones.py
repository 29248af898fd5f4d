"""The contact phone's parser: what people type becomes E.164 or a clear refusal, never an error
of another kind."""

import phonenumbers
import pytest
from django.utils import translation
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from backgroundmusic.accounts.phones import (
    E164,
    PhoneRejected,
    phone_display,
    phone_parse,
)

TYPED_AS_STORED = [
    ("8 (916) 123-45-67", "+79161234567"),
    ("+7 916 123 45 67", "+79161234567"),
    ("9161234567", "+79161234567"),
    ("8-916-123-45-67", "+79161234567"),
    ("  +7 (916) 123-45-67  ", "+79161234567"),
    ("+7\u00a0916\u2013123\u201345\u201367", "+79161234567"),
    # Arabic-Indic digits are digits too.
    ("\u0668\u0669\u0661\u0666\u0661\u0662\u0663\u0664\u0665\u0666\u0667", "+79161234567"),
    ("8 (423) 222-33-44", "+74232223344"),  # a landline in Vladivostok: a contact phone too
    ("+44 20 7946 0958", "+442079460958"),
    ("+1 (202) 555-0143", "+12025550143"),
    ("+49 30 901820", "+4930901820"),
]

REFUSED = [
    ("+1 800 FLOWERS", "phone_characters"),
    ("+7 916 123-45-67 ext. 12", "phone_characters"),
    ("+7 916 123-45-67#", "phone_characters"),
    ("7+9161234567", "phone_characters"),
    ("1" * 41, "phone_characters"),
    ("", "phone_invalid"),
    ("+", "phone_invalid"),
    ("++79161234567", "phone_characters"),
    ("12345", "phone_invalid"),
    ("+7 916 123-45-6", "phone_invalid"),
    ("+7 916 123-45-678", "phone_invalid"),
    ("+0 123 456", "phone_invalid"),
    ("+999 123 456 789", "phone_invalid"),
]


@pytest.mark.parametrize(("typed", "stored"), TYPED_AS_STORED)
def test_a_typed_number_is_stored_in_e164(typed, stored):
    assert phone_parse(typed) == stored


@pytest.mark.parametrize(("typed", "code"), REFUSED)
def test_what_is_not_a_number_is_refused_with_a_reason(typed, code):
    with pytest.raises(PhoneRejected) as refused:
        phone_parse(typed)
    assert refused.value.code == code


def test_the_refusals_are_sentences_in_both_languages():
    messages = {}
    for language in ("en", "ru"):
        with translation.override(language):
            for typed in ("+1 800 FLOWERS", "12345"):
                with pytest.raises(PhoneRejected) as refused:
                    phone_parse(typed)
                messages[language, typed] = refused.value.message
    assert messages == {
        ("en", "+1 800 FLOWERS"): (
            "Use only digits, spaces, dashes and brackets, with + before the country code."
        ),
        ("en", "12345"): (
            "This is not a valid phone number: check the digits and the country code, "
            "e.g. +7 916 123-45-67."
        ),
        ("ru", "+1 800 FLOWERS"): (
            "Используйте только цифры, пробелы, дефисы и скобки, а перед кодом страны — знак +."
        ),
        ("ru", "12345"): (
            "Это не номер телефона: проверьте цифры и код страны, например +7 916 123-45-67."
        ),
    }


def test_the_stored_number_is_shown_in_the_international_format():
    assert phone_display("+79161234567") == "+7 916 123-45-67"
    assert phone_display("+442079460958") == "+44 20 7946 0958"
    assert phone_display("") == ""


@pytest.mark.parametrize("region", sorted(phonenumbers.SUPPORTED_REGIONS))
def test_every_country_s_example_number_reads_back_from_how_it_is_shown(region):
    number = phonenumbers.example_number(region)
    if number is None:  # a region with no example in the metadata
        return
    stored = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    assert phone_parse(phone_display(stored)) == stored
    assert phone_parse(stored) == stored


PHONE_LIKE = st.text(st.sampled_from("0123456789 +-().\u2013\u00a0\u0663"), max_size=45)


@hypothesis_settings(max_examples=600, deadline=None)
@given(typed=st.one_of(st.text(max_size=60), PHONE_LIKE))
@example(typed="\x00")
@example(typed="\ud800")
@example(typed="+" + "9" * 39)
@example(typed="8 (916) 123-45-67")
def test_any_text_is_a_stored_number_or_a_refusal_never_another_error(typed):
    try:
        stored = phone_parse(typed)
    except PhoneRejected as refused:
        assert refused.code in {"phone_characters", "phone_invalid"}
        assert refused.message
        return
    assert E164.fullmatch(stored)
    assert phone_parse(stored) == stored
    assert phone_parse(phone_display(stored)) == stored
