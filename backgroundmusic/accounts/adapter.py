import re
import time
from typing import Any

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.authentication import get_authentication_records
from allauth.account.models import EmailAddress
from allauth.core import context as allauth_context
from allauth.mfa.adapter import DefaultMFAAdapter
from django.conf import settings
from django.contrib.sites.requests import RequestSite
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.encoding import punycode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backgroundmusic.accounts import selectors, services
from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.selectors import message_language
from backgroundmusic.accounts.usernames import username_skeleton
from backgroundmusic.audit.models import AuditAction
from backgroundmusic.privacy.kernel import crypto
from backgroundmusic.privacy.kernel.registry import data_map

# A domain as the mail code sends it: dot-separated labels of ASCII letters, digits and hyphens.
MAILABLE_DOMAIN = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")

# The `app` allauth's two-factor views name when they ask whether to reauthenticate.
MFA_APP = "allauth.mfa"

USERNAME_LOOKS_TAKEN = gettext_lazy(
    "This username looks the same as one that is already taken. Please choose another."
)


def authenticated_recently(request: HttpRequest) -> bool:
    """The signed-in person proved who they are in this session (signing in, or again on the
    reauthentication page) within ACCOUNT_REAUTHENTICATION_TIMEOUT."""
    records = get_authentication_records(request, request.user)  # type: ignore[arg-type]
    if not records:
        return False
    return time.time() - records[-1]["at"] < account_settings.REAUTHENTICATION_TIMEOUT


class AccountAdapter(DefaultAccountAdapter):
    """Hooks allauth's sign-up into our services; allauth keeps the flows and their rate limits."""

    def clean_username(self, username: str, shallow: bool = False) -> str:
        # Look-alikes of reserved and taken names are refused like the names themselves
        # ("аdmin" with a Cyrillic а is "admin"); accounts/usernames.py. With shallow=True the
        # caller checks the taken names itself (the profile form, which excludes its own).
        username = super().clean_username(username, shallow=shallow)
        reserved = {
            username_skeleton(variant)
            for name in account_settings.USERNAME_BLACKLIST
            for variant in (name.lower(), name.upper())
        }
        if username_skeleton(username) in reserved:
            raise self.validation_error("username_blacklisted")
        if not shallow and selectors.username_looks_taken(username=username):
            raise ValidationError(USERNAME_LOOKS_TAKEN, code="username_looks_taken")
        return username

    def clean_email(self, email: str) -> str:
        # Django's validator accepts addresses that cannot be mailed: domains that fail IDNA
        # encoding (the confirmation would crash after the account is saved), addresses longer
        # than the column (allauth would silently cut them to someone else's address), and
        # quoted local parts, which Django's mail code rewrites (""@example.com goes out as
        # @example.com, refused by the server after the account is saved).
        email = super().clean_email(email)
        if len(email) > EmailAddress._meta.get_field("email").max_length or '"' in email:
            raise ValidationError(_("Enter a valid email address."), code="invalid")
        try:
            sent_domain = punycode(email.rpartition("@")[2])
        except UnicodeError:
            raise ValidationError(_("Enter a valid email address."), code="invalid") from None
        # IDNA 2003's mapping can turn a valid-looking domain into one no server takes
        # ("⑴.aa" is sent as "(1).aa"): the domain as sent must be letters, digits and hyphens.
        if not MAILABLE_DOMAIN.fullmatch(sent_domain):
            raise ValidationError(_("Enter a valid email address."), code="invalid")
        return email

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        # allauth greets and signs off with the site's name, which without the sites framework
        # is the request's host ("Hello from 127.0.0.1:8000!"); ours carry the service's name.
        site = RequestSite(allauth_context.request)
        site.name = settings.SERVICE_NAME
        super().send_mail(template_prefix, email, {"current_site": site, **context})

    @transaction.atomic
    def confirm_email(self, request: HttpRequest, email_address: EmailAddress) -> bool:
        # What waited for a verified address (a newsletter asked for at sign-up) is told through
        # the data map's listeners, as the privacy center sits above accounts. The person's
        # correction is audited with it: a new address replacing the account's one
        # (ACCOUNT_CHANGE_EMAIL), or the first address verified.
        replaced = (
            EmailAddress.objects.filter(user_id=email_address.user_id, primary=True)
            .exclude(pk=email_address.pk)
            .exists()
        )
        verified = bool(super().confirm_email(request, email_address))
        if verified:
            user = User.objects.get(pk=email_address.user_id)
            services.correction_record(
                user=user,
                actor=user,
                action=AuditAction.EMAIL_CHANGED if replaced else AuditAction.EMAIL_VERIFIED,
                fields=[
                    "account.EmailAddress.email" if replaced else "account.EmailAddress.verified"
                ],
            )
            data_map.address_verified(
                subject_id=email_address.user_id, site_url=request.build_absolute_uri("/")
            )
        return verified

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        # allauth counts only a password or code typed again on its reauthentication page, so
        # a staff member who had just signed in was asked for the password a second time before
        # setting up two-factor sign-in. For the two-factor pages a sign-in within the same
        # window counts as well; our own sensitive actions (downloading or deleting one's data)
        # still ask again, however fresh the sign-in.
        if not super().is_reauthentication_required(app=app, **kwargs):
            return False
        request = allauth_context.request
        if app != MFA_APP or request is None:
            return True
        return not authenticated_recently(request)

    def save_user(self, request: HttpRequest, user: User, form: Any, commit: bool = True) -> User:
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            services.profile_create(user=user, language=message_language())
        return user


class MFAAdapter(DefaultMFAAdapter):
    """TOTP seeds and recovery-code seeds are stored sealed under the master key, never in clear."""

    def encrypt(self, text: str) -> str:
        return crypto.seal_with_master(text, context=services.MFA_SECRET_CONTEXT)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.open_with_master(encrypted_text, context=services.MFA_SECRET_CONTEXT)
