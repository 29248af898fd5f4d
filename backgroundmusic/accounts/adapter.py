from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.http import HttpRequest

from backgroundmusic.accounts import services
from backgroundmusic.accounts.models import User
from backgroundmusic.privacy import crypto


class AccountAdapter(DefaultAccountAdapter):
    """Hooks allauth's sign-up into our services; allauth keeps the flows and their rate limits."""

    def save_user(self, request: HttpRequest, user: User, form: Any, commit: bool = True) -> User:
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            services.profile_create(user=user)
        return user


class MFAAdapter(DefaultMFAAdapter):
    """TOTP seeds and recovery-code seeds are stored sealed under the master key, never in clear."""

    def encrypt(self, text: str) -> str:
        return crypto.seal_with_master(text, context=services.MFA_SECRET_CONTEXT)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.open_with_master(encrypted_text, context=services.MFA_SECRET_CONTEXT)
