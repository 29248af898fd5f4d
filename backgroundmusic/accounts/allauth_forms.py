"""allauth's forms under the text rules of core/text.py, named in ACCOUNT_FORMS and MFA_FORMS
(settings). The sign-up form has the rules through its base class,
privacy.forms.SignupAgreementForm."""

from typing import Any

from allauth.account import forms as account_forms
from allauth.account.models import EmailAddress
from allauth.mfa.base import forms as mfa_forms
from allauth.mfa.totp import forms as totp_forms
from django.core.validators import MaxLengthValidator
from django.db import transaction
from django.http import HttpRequest

from backgroundmusic.accounts import services
from backgroundmusic.audit.models import AuditAction
from backgroundmusic.core.forms import TextRulesMixin

LOGIN_MAX_LENGTH = EmailAddress._meta.get_field("email").max_length or 254


class LoginForm(TextRulesMixin, account_forms.LoginForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # No account has a longer username or address, and a longer login would not fit the
        # sign-in record django-axes writes of a failed attempt (255 characters).
        login = self.fields["login"]
        login.validators.append(MaxLengthValidator(LOGIN_MAX_LENGTH))
        login.widget.attrs["maxlength"] = str(LOGIN_MAX_LENGTH)


class AuditedAddressMixin:
    """An address added (to replace the account's once verified) is the person's correction,
    audited with the row allauth writes (accounts/services.py correction_record)."""

    user: Any

    def save(self, request: HttpRequest) -> EmailAddress:
        with transaction.atomic():
            address: EmailAddress = super().save(request)  # type: ignore[misc]
            if address.pk:
                services.correction_record(
                    user=self.user,
                    actor=self.user,
                    action=AuditAction.EMAIL_ADDED,
                    fields=["account.EmailAddress.email"],
                )
        return address


class AddEmailForm(AuditedAddressMixin, TextRulesMixin, account_forms.AddEmailForm):
    pass


class ChangeEmailForm(AuditedAddressMixin, TextRulesMixin, account_forms.ChangeEmailForm):
    pass


class ChangePasswordForm(TextRulesMixin, account_forms.ChangePasswordForm):
    pass


class SetPasswordForm(TextRulesMixin, account_forms.SetPasswordForm):
    pass


class ResetPasswordForm(TextRulesMixin, account_forms.ResetPasswordForm):
    pass


class ResetPasswordKeyForm(TextRulesMixin, account_forms.ResetPasswordKeyForm):
    pass


class ReauthenticateForm(TextRulesMixin, account_forms.ReauthenticateForm):
    pass


class MfaAuthenticateForm(TextRulesMixin, mfa_forms.AuthenticateForm):
    pass


class MfaReauthenticateForm(TextRulesMixin, mfa_forms.ReauthenticateForm):
    pass


class ActivateTOTPForm(TextRulesMixin, totp_forms.ActivateTOTPForm):
    pass
