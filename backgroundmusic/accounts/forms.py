"""Profile forms: they parse and validate input; saving is done by services."""

import re
from typing import Any

from allauth.account import app_settings as account_settings
from allauth.account.adapter import get_adapter
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

from backgroundmusic.accounts import selectors
from backgroundmusic.accounts.adapter import USERNAME_LOOKS_TAKEN
from backgroundmusic.accounts.models import AccountType, User
from backgroundmusic.accounts.phones import (
    MAX_TYPED_LENGTH,
    PhoneRejected,
    phone_parse,
)
from backgroundmusic.core.forms import Form

MAX_SOCIAL_LINKS = 20
POSTCODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 \-]{1,10}[A-Za-z0-9]$")
TAX_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-]{3,18}[A-Za-z0-9]$")


class ProfileForm(Form):
    # The same length rules as at sign-up (allauth checks the minimum only there).
    username = forms.CharField(
        label=_("Username"), min_length=account_settings.USERNAME_MIN_LENGTH, max_length=150
    )
    full_name = forms.CharField(label=_("Full name"), max_length=200, required=False)
    account_type = forms.ChoiceField(
        label=_("Account type"), choices=AccountType.choices, widget=forms.RadioSelect
    )
    company_name = forms.CharField(label=_("Company name"), max_length=200, required=False)
    tax_id = forms.CharField(
        label=_("Tax id"),
        max_length=20,
        required=False,
        help_text=_("The company's tax identification number, e.g. 7707083893."),
    )
    address_country = forms.CharField(label=_("Country"), max_length=100, required=False)
    address_region = forms.CharField(label=_("Region"), max_length=100, required=False)
    address_city = forms.CharField(label=_("City"), max_length=100, required=False)
    address_street = forms.CharField(label=_("Street and building"), max_length=200, required=False)
    address_postcode = forms.CharField(label=_("Postcode"), max_length=12, required=False)
    phone = forms.CharField(
        label=_("Contact phone (optional)"),
        max_length=MAX_TYPED_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
        help_text=_(
            "With the country code, e.g. +7 916 123-45-67; a number without + is read as "
            "Russian. We use it only to reach you about your account and licences, and send "
            "promotional text messages to it only if you allow them in the privacy center."
        ),
    )
    # Empty keeps the language the profile has (a form posted without the field).
    language = forms.ChoiceField(
        label=_("Language of our e-mails and messages"),
        choices=settings.LANGUAGES,
        required=False,
        error_messages={"invalid_choice": _("Choose English or Russian.")},
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("account_type") == AccountType.LEGAL:
            for name, message in (
                ("company_name", _("A company account needs the company name.")),
                ("tax_id", _("A company account needs the tax id.")),
            ):
                if not cleaned.get(name) and name not in self.errors:
                    self.add_error(name, message)
        return cleaned

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if username == self.user.username:
            return username
        if User.objects.filter(username__iexact=username).exclude(pk=self.user.pk).exists():
            raise ValidationError(_("This username is already taken."), code="taken")
        username = get_adapter().clean_username(username, shallow=True)
        if selectors.username_looks_taken(username=username, exclude_user_id=self.user.pk):
            raise ValidationError(USERNAME_LOOKS_TAKEN, code="username_looks_taken")
        return username

    def clean_tax_id(self) -> str:
        value = self.cleaned_data["tax_id"].strip()
        if value and not TAX_ID_PATTERN.match(value):
            raise ValidationError(
                _("A tax id has 5 to 20 letters, digits or hyphens."), code="tax_id"
            )
        return value

    def clean_phone(self) -> str:
        typed = self.cleaned_data["phone"].strip()
        if not typed:
            return ""
        try:
            return phone_parse(typed)
        except PhoneRejected as error:
            raise ValidationError(error.message, code=error.code) from None

    def clean_address_postcode(self) -> str:
        value = self.cleaned_data["address_postcode"].strip()
        if value and not POSTCODE_PATTERN.match(value):
            raise ValidationError(
                _("A postcode has 3 to 12 letters, digits, spaces or hyphens."), code="postcode"
            )
        return value


class HttpsURLField(forms.URLField):
    default_validators = [URLValidator(schemes=["https"])]
    default_error_messages = {
        "invalid": _("Enter a full link starting with https://, e.g. https://example.com/you.")
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(assume_scheme="https", **kwargs)

    def to_python(self, value: Any) -> str:
        # Django would quietly prepend "http://"; a link without a scheme must be corrected
        # by the person instead.
        value = (value or "").strip()
        if value and not value.lower().startswith("https://"):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        # Control characters, which URLValidator lets through in the path, are refused by the
        # text rules every form field is under (core/forms.py).
        url = str(super().to_python(value))
        # "HTTPS://…" is the same link; it is kept (and shown) as "https://…".
        return "https" + url[len("https") :] if url else url


class SocialLinkForm(Form):
    url = HttpsURLField(label=_("Link to a social-network profile"), max_length=500, required=False)


class BaseSocialLinkFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        seen: set[str] = set()
        for form in self.forms:
            url = form.cleaned_data.get("url")
            if url and url in seen:
                form.add_error("url", _("This link is already in the list."))
            if url:
                seen.add(url)

    def urls(self) -> list[str]:
        return [form.cleaned_data["url"] for form in self.forms if form.cleaned_data.get("url")]


SocialLinkFormSet = forms.formset_factory(
    SocialLinkForm,
    formset=BaseSocialLinkFormSet,
    extra=2,
    max_num=MAX_SOCIAL_LINKS,
    validate_max=True,
    absolute_max=MAX_SOCIAL_LINKS,
)
