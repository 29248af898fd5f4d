"""Reads of the inbox that carry a rule."""

from typing import Any

from allauth.account.models import EmailAddress

from backgroundmusic.privacy.kernel.pseudonyms import address_digest


def account_for_verified_address(*, address: str) -> Any | None:
    """The active account that holds `address` as a verified address (any case), or None. Only
    such an account is ever answered or acted for: an unverified or unknown address proves
    nothing, and answering it would send mail to whoever a forger named (backscatter)."""
    found = (
        EmailAddress.objects.filter(email__iexact=address, verified=True, user__is_active=True)
        .select_related("user")
        .order_by("-primary", "pk")
        .first()
    )
    return found.user if found is not None else None


def verified_address_with_digest(*, subject_id: int, digest: str) -> str | None:
    """The account's verified address whose keyed digest is `digest`, or None when the account
    no longer holds it verified (removed or changed since the letter came)."""
    for address in EmailAddress.objects.filter(user_id=subject_id, verified=True).values_list(
        "email", flat=True
    ):
        if address_digest(address=address) == digest:
            return str(address)
    return None
