"""Reads of accounts and profiles that carry a rule."""

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext_lazy as _

from backgroundmusic.accounts.models import Profile, User
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
        *(link.url for link in profile.social_links.all()),
    )
