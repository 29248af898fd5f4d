"""Every write to accounts and profiles."""

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.db import transaction

from backgroundmusic.accounts.models import (
    AccountType,
    Profile,
    PublicProfileChoice,
    SocialLink,
    User,
)
from backgroundmusic.accounts.selectors import remember_profile_values
from backgroundmusic.core import clock
from backgroundmusic.privacy import consents
from backgroundmusic.privacy.kernel import crypto
from backgroundmusic.privacy.models import ConsentMethod, ConsentPurpose


@transaction.atomic
def profile_create(*, user: User) -> Profile:
    profile, _ = Profile.objects.get_or_create(user=user)
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


@transaction.atomic
def profile_update(*, user: User, data: ProfileData) -> Profile:
    """Replaces the person's profile data; company details are kept only for legal persons."""
    profile = Profile.objects.select_for_update().get(user=user)
    if data.username != user.username:
        user.username = data.username
        user.save(update_fields=["username"])
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
    profile.save()
    profile.social_links.all().delete()
    SocialLink.objects.bulk_create(
        SocialLink(profile=profile, url=url, position=index)
        for index, url in enumerate(data.social_links)
    )
    remember_profile_values(profile)
    return profile


def _public_profile_apply(
    *, user: User, profile: Profile, published: bool, public_fields: list[str], indexable: bool
) -> Profile:
    """Saves the publishing choices and records each change in PublicProfileChoice."""
    indexable = indexable and published
    public_fields = sorted(set(public_fields)) if published else []
    now = clock.now()
    Action = PublicProfileChoice.Action
    changes = []
    if published != profile.is_published:
        changes.append(Action.PUBLISHED if published else Action.UNPUBLISHED)
    elif published and public_fields != sorted(profile.public_fields):
        changes.append(Action.FIELDS_CHANGED)
    if indexable != profile.is_indexable:
        changes.append(Action.INDEXING_ALLOWED if indexable else Action.INDEXING_WITHDRAWN)
    PublicProfileChoice.objects.bulk_create(
        PublicProfileChoice(user=user, action=action, public_fields=public_fields, at=now)
        for action in changes
    )
    profile.is_published = published
    profile.is_indexable = indexable
    profile.public_fields = public_fields
    profile.save(update_fields=["is_published", "is_indexable", "public_fields", "updated_at"])
    return profile


@transaction.atomic
def public_profile_set(
    *, user: User, published: bool, public_fields: list[str], indexable: bool
) -> Profile:
    """Records every change of the publishing choices, so they can be shown and withdrawn later,
    and keeps the consent ledger in step: publishing and indexing are consent purposes."""
    profile = Profile.objects.select_for_update().get(user=user)
    _public_profile_apply(
        user=user,
        profile=profile,
        published=published,
        public_fields=public_fields,
        indexable=indexable,
    )
    # The profile is saved first: the withdrawal listeners then find nothing left to undo.
    for purpose, wanted in (
        (ConsentPurpose.PUBLIC_PROFILE, profile.is_published),
        (ConsentPurpose.INDEXING, profile.is_indexable),
    ):
        if wanted:
            consents.consent_give(subject=user, purpose=purpose, method=ConsentMethod.FORM)
        else:
            consents.consent_withdraw(subject=user, purpose=purpose, method=ConsentMethod.FORM)
    return profile


@transaction.atomic
def public_profile_withdraw(*, user: User, purpose: str) -> Profile:
    """The person's consent to the public profile (unpublish it) or to its indexing (stop it)
    has stopped: withdrawn in the privacy center or suspended by a policy change. Called by the
    consent listener (accounts/privacy.py); changes nothing when already done."""
    profile = Profile.objects.select_for_update().get(user=user)
    if purpose == ConsentPurpose.PUBLIC_PROFILE and profile.is_published:
        _public_profile_apply(
            user=user, profile=profile, published=False, public_fields=[], indexable=False
        )
    elif purpose == ConsentPurpose.INDEXING and profile.is_indexable:
        _public_profile_apply(
            user=user,
            profile=profile,
            published=profile.is_published,
            public_fields=profile.public_fields,
            indexable=False,
        )
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
