"""Stable pseudonyms for people in records the law makes us keep after erasure."""

import contextlib
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


def normalized_address(address: str) -> str:
    """An e-mail address as the suppression list compares it: trimmed, lower-case, the domain
    in its IDNA A-label form when it can be encoded."""
    local, _at, domain = address.strip().rpartition("@")
    with contextlib.suppress(UnicodeError):
        domain = domain.encode("idna").decode("ascii")
    return f"{local}@{domain}".lower() if local else address.strip().lower()


def address_digest(*, address: str) -> str:
    """A keyed digest of an e-mail address (normalized): the suppression list and the inbox's
    record of received letters keep only this, so they name nobody and still match the address
    when it comes back."""
    return _digest("address", normalized_address(address))


def delivery_tag(*, address: str) -> str:
    """The tag a newsletter carries for its recipient's address (mailing/rendering.py): a
    delivery report about that address counts only when the returned headers hold it, so a
    forged report cannot suppress someone else's address. Its own purpose, so it matches no
    digest kept in the database."""
    return _digest("delivery", normalized_address(address))[:32]


def unsubscribe_token(*, seed: str) -> str:
    """The unsubscribe token made from a person's random seed: rebuilt for each message, and
    unaffected by SECRET_KEY rotation (PSEUDONYM_SECRET is never rotated)."""
    return _digest("unsubscribe", seed)
