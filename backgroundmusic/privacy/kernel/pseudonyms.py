"""Stable pseudonyms for people in records the law makes us keep after erasure."""

import hashlib
import hmac

from django.conf import settings


def _digest(purpose: str, value: str) -> str:
    return hmac.new(
        settings.PSEUDONYM_SECRET.encode(), f"{purpose}:{value}".encode(), hashlib.sha256
    ).hexdigest()


def subject_pseudonym(*, subject_id: int) -> str:
    """The same person always gets the same pseudonym; it cannot be turned back into an id."""
    return f"subject-{_digest('subject', str(subject_id))[:24]}"


def username_digest(*, username: str) -> str:
    """A keyed digest of a username, case-insensitive, for tombstones of erased profiles."""
    return _digest("username", username.lower())


def email_address_digest(*, address: str) -> str:
    """A keyed digest of an e-mail address, case-insensitive: evidence of where a message went
    that does not hold the address (it can be checked against an address, not reversed)."""
    return _digest("email-address", address.strip().lower())
