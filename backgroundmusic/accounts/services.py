"""Every write to accounts and profiles but the public profile's publishing choices, which are
consents (privacy/public_profile.py)."""

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.db import transaction

from backgroundmusic.accounts.models import AccountType, Profile, SocialLink, User
from backgroundmusic.accounts.phones import phone_parse
from backgroundmusic.accounts.selectors import remember_profile_values
from backgroundmusic.audit.models import AuditAction
from backgroundmusic.audit.services import audit_record
from backgroundmusic.privacy.kernel import crypto
from backgroundmusic.privacy.kernel.registry import Category, data_map


@transaction.atomic
def profile_create(*, user: User, language: str = settings.LANGUAGE_CODE) -> Profile:
    profile, _ = Profile.objects.get_or_create(user=user, defaults={"language": language})
    return profile


@transaction.atomic
def user_create(
    *, username: str, email: str, password: str | None, email_verified: bool = False
) -> User:
    """A user with a profile and an allauth e-mail record (verified only when we know it is)."""
    user = User.objects.create_user(username=username, email=email, password=password)
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=email_verified)
    profile_create(user=user)
    return user


@transaction.atomic
def staff_administrator_create(*, username: str, email: str, password: str) -> User:
    """An account holding the administrator role only: not a superuser and not let into the
    Django admin, which is used under a break-glass grant (accounts/break_glass.py)."""
    user = user_create(username=username, email=email, password=password, email_verified=True)
    from backgroundmusic.accounts.staff import staff_role_assign
    from backgroundmusic.staffroles.roles import StaffRole

    staff_role_assign(actor=None, user=user, role=StaffRole.ADMINISTRATOR)
    return user


@dataclass(frozen=True)
class ProfileData:
    username: str
    full_name: str
    account_type: str
    company_name: str
    tax_id: str
    address_country: str
    address_region: str
    address_city: str
    address_street: str
    address_postcode: str
    social_links: list[str]
    # The contact phone as typed or in E.164; "" when the person gives none.
    phone: str = ""
    # "" keeps the language the profile has.
    language: str = ""


# The profile's fields the person corrects on the profile page.
CORRECTABLE_PROFILE_FIELDS = (
    "account_type",
    "full_name",
    "company_name",
    "tax_id",
    "address_country",
    "address_region",
    "address_city",
    "address_street",
    "address_postcode",
    "phone",
    "language",
)


def correction_record(
    *, user: User, actor: User | None, action: AuditAction, fields: list[str]
) -> None:
    """The audit row of a correction of the person's data, shown to them in the privacy center:
    which fields ("app.Model.field"), never their values (docs/architecture.md, Audit trail)."""
    audit_record(
        actor=actor, action=action, target=(user._meta.label, user.pk), after={"fields": fields}
    )


def _social_urls(profile: Profile) -> list[str]:
    return [link.url for link in profile.social_links.order_by("position", "pk")]


@transaction.atomic
def profile_update(*, user: User, data: ProfileData) -> Profile:
    """Replaces the person's profile data; company details are kept only for legal persons.

    The phone is stored in E.164 (accounts/phones.py); removing it stops what needed it (the
    privacy center withdraws the consent to promotional text messages, through the data map's
    contact listeners), in this transaction. What changed is written to the audit trail as the
    person's correction (profile.corrected); an update that changes nothing writes nothing."""
    if data.language and data.language not in dict(settings.LANGUAGES):
        raise ValueError(f"unknown language {data.language!r}")
    phone = phone_parse(data.phone) if data.phone.strip() else ""
    profile = Profile.objects.select_for_update().get(user=user)
    had_phone = bool(profile.phone)
    before = {name: getattr(profile, name) for name in CORRECTABLE_PROFILE_FIELDS}
    links_before = _social_urls(profile)
    changed = []
    if data.username != user.username:
        user.username = data.username
        user.save(update_fields=["username"])
        changed.append("accounts.User.username")
    is_legal = data.account_type == AccountType.LEGAL
    profile.account_type = data.account_type
    profile.full_name = data.full_name.strip()
    profile.company_name = data.company_name.strip() if is_legal else ""
    profile.tax_id = data.tax_id.strip() if is_legal else ""
    profile.address_country = data.address_country.strip()
    profile.address_region = data.address_region.strip()
    profile.address_city = data.address_city.strip()
    profile.address_street = data.address_street.strip()
    profile.address_postcode = data.address_postcode.strip()
    profile.phone = phone
    if data.language:
        profile.language = data.language
    profile.save()
    profile.social_links.all().delete()
    SocialLink.objects.bulk_create(
        SocialLink(profile=profile, url=url, position=index)
        for index, url in enumerate(data.social_links)
    )
    remember_profile_values(profile)
    changed += [
        f"accounts.Profile.{name}"
        for name in CORRECTABLE_PROFILE_FIELDS
        if getattr(profile, name) != before[name]
    ]
    if list(data.social_links) != links_before:
        changed.append("accounts.SocialLink.url")
    if changed:
        correction_record(
            user=user, actor=user, action=AuditAction.PROFILE_CORRECTED, fields=changed
        )
    if had_phone and not phone:
        data_map.contact_removed(category=Category.CONTACT_PHONE, subject_id=user.pk)
    return profile


MFA_SECRET_CONTEXT = "mfa.authenticator"  # noqa: S105 - associated data, not a secret
# The keys of Authenticator.data that allauth stores through MFAAdapter.encrypt().
MFA_SEALED_KEYS = ("secret", "seed")


def mfa_secrets_reseal() -> int:
    """Re-seals two-factor secrets not under the current master key; returns how many changed."""
    current = crypto.master_key_ring().current_id
    changed = 0
    for authenticator in Authenticator.objects.order_by("pk").iterator():
        data = dict(authenticator.data)
        stale = [
            key
            for key in MFA_SEALED_KEYS
            if isinstance(data.get(key), str) and crypto.master_token_key_id(data[key]) != current
        ]
        if not stale:
            continue
        for key in stale:
            data[key] = crypto.seal_with_master(
                crypto.open_with_master(data[key], context=MFA_SECRET_CONTEXT),
                context=MFA_SECRET_CONTEXT,
            )
        with transaction.atomic():
            Authenticator.objects.filter(pk=authenticator.pk).update(data=data)
        changed += 1
    return changed
