"""Every write to accounts and profiles."""

from django.db import transaction

from backgroundmusic.accounts.models import Profile, User


@transaction.atomic
def profile_create(*, user: User) -> Profile:
    profile, _ = Profile.objects.get_or_create(user=user)
    return profile


@transaction.atomic
def user_create(
    *, username: str, email: str, password: str | None, email_verified: bool = False
) -> User:
    """A user with a profile and an allauth e-mail record (verified only when we know it is)."""
    from allauth.account.models import EmailAddress

    user = User.objects.create_user(username=username, email=email, password=password)
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=email_verified)
    profile_create(user=user)
    return user


@transaction.atomic
def staff_administrator_create(*, username: str, email: str, password: str) -> User:
    user = user_create(username=username, email=email, password=password, email_verified=True)
    user.is_staff = True
    user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    return user
