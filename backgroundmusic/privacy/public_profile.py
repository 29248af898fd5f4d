"""Publishing the public profile and allowing its indexing: each choice is a consent purpose, so
the profile's flags, their history (PublicProfileChoice) and the consent ledger change in one
transaction. The profile belongs to accounts; the consents make this the privacy center's."""

from collections.abc import Mapping

from django.db import transaction

from backgroundmusic.accounts.models import Profile, PublicProfileChoice, User
from backgroundmusic.core import clock
from backgroundmusic.privacy import consents
from backgroundmusic.privacy.models import ConsentMethod, ConsentPurpose


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
    *,
    user: User,
    published: bool,
    public_fields: list[str],
    indexable: bool,
    evidence: Mapping[str, Mapping[str, str]] | None = None,
) -> Profile:
    """Records every change of the publishing choices, so they can be shown and withdrawn later,
    and keeps the consent ledger in step: publishing and indexing are consent purposes, each
    recorded with its evidence (`evidence` by purpose: the wording of its field on the form)."""
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
        change = consents.consent_give if wanted else consents.consent_withdraw
        change(
            subject=user,
            purpose=purpose,
            method=ConsentMethod.FORM,
            evidence=(evidence or {}).get(purpose),
        )
    return profile


@transaction.atomic
def public_profile_withdraw(*, user: User, purpose: str) -> Profile:
    """The person's consent to the public profile (unpublish it) or to its indexing (stop it)
    has stopped: withdrawn in the privacy center or suspended by a policy change. Called by the
    consent listener (privacy/privacy.py); changes nothing when already done."""
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
