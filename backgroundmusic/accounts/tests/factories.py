"""Shared factories. Users are made through services.user_create, so each has its profile and a
verified e-mail record, as after a real sign-up. Call `UserFactory.create(...)` (typed as User)
rather than `UserFactory(...)` (which mypy types as the factory)."""

from typing import Any

import factory
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from backgroundmusic.accounts import services, staff
from backgroundmusic.accounts.models import User
from backgroundmusic.staffroles.roles import StaffRole

PASSWORD = "a-long-password-1"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = PASSWORD
    email_verified = True

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        return services.user_create(**kwargs)


class StaffFactory(UserFactory):
    """A staff member holding `role`, with a TOTP authenticator unless totp=False."""

    username = factory.Sequence(lambda n: f"staff{n}")
    role = StaffRole.SUPPORT
    totp = True

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        role = kwargs.pop("role")
        totp = kwargs.pop("totp")
        user = super()._create(model_class, *args, **kwargs)
        staff.staff_role_assign(actor=None, user=user, role=role)
        if totp:
            TOTP.activate(user, generate_totp_secret())
        return user
