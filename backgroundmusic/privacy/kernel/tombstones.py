"""Tombstones of erased public profiles: /u/<username>/ of an erased account answers 410 Gone,
found by a keyed digest of the username, so the name itself is not kept. Written by the erasure
(privacy/rights/handlers.py), read by the public profile page (accounts/views.py)."""

from django.contrib.auth import get_user_model

from backgroundmusic.core import clock
from backgroundmusic.privacy.kernel.models import ErasedProfileTombstone
from backgroundmusic.privacy.kernel.pseudonyms import username_digest


def profile_tombstone_record(*, username: str) -> None:
    """Remembers that the account named so was erased; once is enough."""
    ErasedProfileTombstone.objects.get_or_create(
        username_digest=username_digest(username=username),
        defaults={"erased_at": clock.now()},
    )


def profile_was_erased(*, username: str) -> bool:
    """Whether /u/<username>/ belonged to an erased account (and nobody holds the name now)."""
    user_model = get_user_model()
    if user_model._default_manager.filter(
        **{f"{user_model.USERNAME_FIELD}__iexact": username}
    ).exists():
        return False
    return ErasedProfileTombstone.objects.filter(
        username_digest=username_digest(username=username)
    ).exists()
