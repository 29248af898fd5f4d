"""Reads of accounts and profiles that carry a rule."""

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from backgroundmusic.accounts.models import AccountType, Profile, User
from backgroundmusic.accounts.phones import phone_display
from backgroundmusic.accounts.usernames import username_skeleton_digest
from backgroundmusic.core.logging import remember_personal_values

PUBLIC_FIELD_CHOICES = [
    ("full_name", _("Full name")),
    ("company_name", _("Company name")),
    ("location", _("City and country")),
    ("social_links", _("Social-network links")),
]


@dataclass(frozen=True)
class PublicProfile:
    username: str
    published: bool
    indexable: bool
    full_name: str | None
    company_name: str | None
    location: str | None
    social_links: list[str] | None


def indexable_profile_usernames() -> QuerySet[Profile, str]:
    """The usernames of the public profiles search engines may list (the sitemap): published,
    indexable, of an active account; the same rule as `public_profile_for`'s noindex header."""
    return (
        Profile.objects.filter(is_published=True, is_indexable=True, user__is_active=True)
        .order_by("user__username")
        .values_list("user__username", flat=True)
    )


def public_profile_for(*, username: str, viewer: User | AnonymousUser) -> PublicProfile | None:
    """The public view of a profile, or None when it does not exist for this viewer.

    Until it is published, only its owner sees it (as a preview); for everyone else it is absent.
    """
    profile = (
        Profile.objects.select_related("user")
        .filter(user__username=username, user__is_active=True)
        .first()
    )
    if profile is None or not (profile.is_published or profile.user_id == viewer.pk):
        return None
    remember_profile_values(profile)
    shown = set(profile.public_fields)
    location = ", ".join(p for p in (profile.address_city, profile.address_country) if p)
    return PublicProfile(
        username=profile.user.username,
        published=profile.is_published,
        indexable=profile.is_indexable,
        full_name=profile.full_name if "full_name" in shown else None,
        company_name=profile.company_name if "company_name" in shown else None,
        location=location if "location" in shown else None,
        social_links=[link.url for link in profile.social_links.all()]
        if "social_links" in shown
        else None,
    )


def profile_of(*, user: User) -> Profile:
    profile = Profile.objects.prefetch_related("social_links").get(user=user)
    remember_profile_values(profile)
    return profile


def remember_profile_values(profile: Profile) -> None:
    """Masks this person's values in every log line of the current request or job."""
    remember_personal_values(
        profile.user.username,
        profile.user.email,
        profile.full_name,
        profile.company_name,
        profile.tax_id,
        profile.address_region,
        profile.address_city,
        profile.address_street,
        profile.address_postcode,
        profile.phone,
        phone_display(profile.phone),
        *(link.url for link in profile.social_links.all()),
    )


def contact_phone_of(*, user_id: int) -> str:
    """The person's contact phone in E.164; "" when they gave none (or have no profile)."""
    profile = Profile.objects.filter(user_id=user_id).only("user_id", "phone").first()
    if profile is None:
        return ""
    remember_personal_values(profile.phone, phone_display(profile.phone))
    return profile.phone


def has_contact_phone(*, user_id: int) -> bool:
    """Whether the person gave a contact phone (an empty value is stored empty, not sealed, so
    nothing is opened to answer)."""
    return Profile.objects.filter(user_id=user_id).exclude(phone="").exists()


def account_for_login(*, login: str, by_email: bool) -> int | None:
    """The id of the account that the typed login names now, as allauth signs in with it: an
    e-mail address (any of the account's, any case) or the username (any case)."""
    if by_email:
        user_id = (
            EmailAddress.objects.filter(email__iexact=login)
            .order_by("-verified", "-primary", "pk")
            .values_list("user_id", flat=True)
            .first()
        )
        if user_id is None:
            user_id = User.objects.filter(email__iexact=login).values_list("pk", flat=True).first()
        return user_id
    return User.objects.filter(username__iexact=login).values_list("pk", flat=True).first()


def username_looks_taken(*, username: str, exclude_user_id: int | None = None) -> bool:
    """Whether another account's username has the same look-alike skeleton (UTS #39)."""
    others = User.objects.filter(username_skeleton=username_skeleton_digest(username))
    if exclude_user_id is not None:
        others = others.exclude(pk=exclude_user_id)
    return others.exists()


def message_language() -> str:
    """The language of the current page as one of ours, for the messages we will send."""
    active = (get_language() or settings.LANGUAGE_CODE).split("-")[0]
    return active if active in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


@dataclass(frozen=True)
class MessageAddress:
    """Where and in which language we write to a person: their verified primary address."""

    address: str
    language: str


def verified_primary_address(*, user_id: int) -> str | None:
    """The person's primary e-mail address if it is verified (allauth's record), else None."""
    return (
        EmailAddress.objects.filter(user_id=user_id, primary=True, verified=True)
        .values_list("email", flat=True)
        .first()
    )


def verified_addresses_lowercase(*, user_id: int) -> QuerySet[EmailAddress, str]:
    """The person's verified e-mail addresses, primary or not, in lower case: a lazy query, to
    be used as a subquery."""
    return EmailAddress.objects.filter(user_id=user_id, verified=True).values_list(
        Lower("email"), flat=True
    )


def account_with_verified_primary_address(*, address: str) -> User | None:
    """The active account whose verified primary e-mail address is `address` (any case), or
    None: the account a request proven by a code sent to that address is about."""
    found = (
        EmailAddress.objects.filter(
            email__iexact=address.strip(), primary=True, verified=True, user__is_active=True
        )
        .select_related("user")
        .first()
    )
    return found.user if found is not None else None


def message_address(*, user_id: int) -> MessageAddress | None:
    """The verified primary address of an active account and the language of our messages to
    it (the profile's); None when there is no such address. One query."""
    found = (
        EmailAddress.objects.filter(
            user_id=user_id, primary=True, verified=True, user__is_active=True
        )
        .values_list("email", "user__profile__language")
        .first()
    )
    if found is None:
        return None
    address, language = found
    return MessageAddress(address=address, language=language or settings.LANGUAGE_CODE)


def profile_incomplete(*, user_id: int) -> bool:
    """Is the person's profile missing what a licence names them by: the full name, and for a
    company its name? Empty values are stored unsealed, so the database answers."""
    missing = Q(full_name="") | Q(account_type=AccountType.LEGAL, company_name="")
    return Profile.objects.filter(missing, user_id=user_id).exists()
