from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest

from backgroundmusic.accounts import services
from backgroundmusic.accounts.models import User


class AccountAdapter(DefaultAccountAdapter):
    """Hooks allauth's sign-up into our services; allauth keeps the flows and their rate limits."""

    def save_user(self, request: HttpRequest, user: User, form: Any, commit: bool = True) -> User:
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            services.profile_create(user=user)
        return user
