"""Double opt-in of the newsletter consent (policy clause 4.1.3).

Asking for the newsletter, in the privacy center or at sign-up, does not give the consent: it
sends a link to the account's verified primary address, and the consent is written to the ledger
when the person confirms through that link (method EMAIL_CONFIRMATION), counting from then. The
pending request is a ConsentConfirmation row; the ledger record carries the evidence: when it
was asked for, sent and confirmed, a keyed hash of the address, and how.

The link's token is signed (django.core.signing, its own salt) and names the request, the person
and the keyed hash of the address it was sent to; it works for LINK_LIFETIME, once, and only
while that address is still the person's verified primary address. Opening it (GET) changes
nothing, since mail scanners fetch links; only the POST of its page confirms. The token is the
proof, so no sign-in is needed, and whoever is signed in, it confirms for its own person only.

Restriction of processing pauses newsletters, so while it is on nothing is asked for or
confirmed: the person is told to lift it first (decision 0028-newsletter-double-opt-in).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core import signing
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from backgroundmusic.accounts.selectors import message_address, verified_primary_address
from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.core.http import site_address
from backgroundmusic.core.mail import job_message_id
from backgroundmusic.privacy import consents
from backgroundmusic.privacy.kernel.pseudonyms import address_digest
from backgroundmusic.privacy.models import ConsentConfirmation, ConsentMethod, ConsentPurpose

SIGNING_SALT = "privacy.optin.confirmation"
LINK_LIFETIME = timedelta(days=7)
# The purposes given only by a confirmed link; every other is given with one click.
CONFIRMED_BY_EMAIL = frozenset({ConsentPurpose.NEWSLETTER})
EVIDENCE_HOW = "double opt-in"


class LinkOutcome(StrEnum):
    READY = "ready"  # a good link: its page offers the button that confirms
    CONFIRMED = "confirmed"  # this POST gave the consent
    ALREADY_GIVEN = "already_given"
    USED = "used"
    EXPIRED = "expired"
    INVALID = "invalid"  # altered, not ours, or its account is gone
    ADDRESS_CHANGED = "address_changed"
    RESTRICTED = "restricted"


@dataclass(frozen=True)
class LinkCheck:
    outcome: LinkOutcome
    # The person the link is for, once its signature holds; None for an invalid link.
    subject_id: int | None = None


def _refuse_unless_requestable(*, subject: AbstractBaseUser) -> None:
    if consents.consent_in_ledger(subject_id=subject.pk, purpose=ConsentPurpose.NEWSLETTER):
        raise DomainError(_("You already receive the newsletter."), code="already_given")
    if consents.subject_is_restricted(subject=subject):
        raise DomainError(
            _(
                "Processing of your data is restricted, so we send no newsletters. Lift the "
                "restriction first if you want them."
            ),
            code="restricted",
        )


def _queue(*, confirmation: ConsentConfirmation, address: str, site_url: str) -> None:
    """Names the address the link goes to and enqueues the message, in the caller's
    transaction."""
    from backgroundmusic.privacy import tasks

    confirmation.address_hash = address_digest(address=address)
    confirmation.expires_at = clock.now() + LINK_LIFETIME
    confirmation.save(update_fields=["address_hash", "expires_at"])
    tasks.send_consent_confirmation.enqueue(
        confirmation_id=confirmation.pk, site_url=site_address(site_url=site_url)
    )


@transaction.atomic
def newsletter_optin_request(
    *, subject: AbstractBaseUser, site_url: str = ""
) -> ConsentConfirmation:
    """The privacy center's "Give" (or "Send again") for the newsletter: a new link to the
    verified primary address. Refused when already given, while restricted, and without a
    verified address. site_url: scheme and host for the link (the request's)."""
    _refuse_unless_requestable(subject=subject)
    target = message_address(user_id=subject.pk)
    if target is None:
        raise DomainError(
            _(
                "Verify your e-mail address first: we send the newsletter only to a verified "
                "address."
            ),
            code="address_not_verified",
        )
    confirmation = ConsentConfirmation.objects.create(
        subject_id=subject.pk,
        purpose=ConsentPurpose.NEWSLETTER,
        requested_via=ConsentMethod.PREFERENCE_CENTER,
        requested_at=clock.now(),
    )
    _queue(confirmation=confirmation, address=target.address, site_url=site_url)
    return confirmation


@transaction.atomic
def newsletter_optin_request_at_signup(
    *, subject: AbstractBaseUser, site_url: str = ""
) -> ConsentConfirmation:
    """The sign-up form's "Send me the newsletter": the request is kept, and its link is sent
    once the address is verified (optin_address_verified), at once if it already is."""
    confirmation = ConsentConfirmation.objects.create(
        subject_id=subject.pk,
        purpose=ConsentPurpose.NEWSLETTER,
        requested_via=ConsentMethod.FORM,
        requested_at=clock.now(),
    )
    target = message_address(user_id=subject.pk)
    if target is not None:
        _queue(confirmation=confirmation, address=target.address, site_url=site_url)
    return confirmation


@transaction.atomic
def optin_address_verified(*, subject_id: int, site_url: str = "") -> int:
    """The address-verified listener (privacy.py): sends the link of a request made at sign-up
    that waits for the verified address. Returns how many links were queued (0 or 1)."""
    target = message_address(user_id=subject_id)
    if target is None:
        return 0
    waiting = (
        ConsentConfirmation.objects.select_for_update()
        .filter(
            subject_id=subject_id,
            purpose=ConsentPurpose.NEWSLETTER,
            address_hash="",
            confirmed_at__isnull=True,
            requested_at__gt=clock.now() - LINK_LIFETIME,
        )
        .order_by("-requested_at", "-pk")
        .first()
    )
    if waiting is None or consents.consent_in_ledger(
        subject_id=subject_id, purpose=ConsentPurpose.NEWSLETTER
    ):
        return 0
    _queue(confirmation=waiting, address=target.address, site_url=site_url)
    return 1


def confirmation_token(confirmation: ConsentConfirmation) -> str:
    if confirmation.expires_at is None:
        raise ValueError("a confirmation gets its token once its address is named")
    return signing.dumps(
        {
            "c": confirmation.pk,
            "s": confirmation.subject_id,
            "a": confirmation.address_hash,
            "e": int(confirmation.expires_at.timestamp()),
        },
        salt=SIGNING_SALT,
    )


def confirmation_send(*, confirmation_id: int, site_url: str = "") -> str:
    """The job: e-mails the link, in the language of the person's messages, to their verified
    primary address if it is still the one the request named. Returns what happened; a link
    already sent is not sent again (the mark is set in the transaction that sends)."""
    with transaction.atomic():
        confirmation = (
            ConsentConfirmation.objects.select_for_update().filter(pk=confirmation_id).first()
        )
        if confirmation is None:
            return "gone"
        if confirmation.sent_at is not None or confirmation.confirmed_at is not None:
            return "sent"
        if confirmation.expires_at is None or confirmation.expires_at <= clock.now():
            return "expired"
        target = message_address(user_id=confirmation.subject_id)
        if target is None or address_digest(address=target.address) != (confirmation.address_hash):
            return "address_changed"
        context: dict[str, Any] = {
            "link": site_address(
                reverse("privacy:optin_confirm", args=[confirmation_token(confirmation)]),
                site_url=site_url,
            ),
            "expires_at": confirmation.expires_at,
        }
        with translation.override(target.language):
            subject = render_to_string("privacy/optin_email_subject.txt", context).strip()
            body = render_to_string("privacy/optin_email.txt", context)
        EmailMessage(
            subject=subject,
            body=body,
            to=[target.address],
            headers=job_message_id("consent-confirmation", confirmation.pk),
        ).send()
        confirmation.sent_at = clock.now()
        confirmation.save(update_fields=["sent_at"])
        return "sent"


def _payload(token: str) -> dict[str, Any] | None:
    try:
        payload = signing.loads(token, salt=SIGNING_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict):
        return None
    ids_ok = all(type(payload.get(key)) is int for key in ("c", "s", "e"))
    if not ids_ok or not isinstance(payload.get("a"), str):
        return None
    return payload


def _check(
    payload: dict[str, Any], confirmation: ConsentConfirmation | None, *, now: datetime
) -> LinkCheck:
    subject_id: int = payload["s"]
    if now.timestamp() >= payload["e"]:
        return LinkCheck(LinkOutcome.EXPIRED, subject_id)
    if confirmation is None or confirmation.address_hash != payload["a"]:
        # Its request is gone with its account, or was never ours.
        return LinkCheck(LinkOutcome.INVALID)
    if confirmation.confirmed_at is not None:
        return LinkCheck(LinkOutcome.USED, subject_id)
    if confirmation.expires_at is None or confirmation.expires_at <= now:
        return LinkCheck(LinkOutcome.EXPIRED, subject_id)
    target = message_address(user_id=subject_id)
    if target is None and not (
        get_user_model()._default_manager.filter(pk=subject_id, is_active=True).exists()
    ):
        return LinkCheck(LinkOutcome.INVALID)
    if target is None or address_digest(address=target.address) != payload["a"]:
        return LinkCheck(LinkOutcome.ADDRESS_CHANGED, subject_id)
    if consents.consent_in_ledger(subject_id=subject_id, purpose=ConsentPurpose.NEWSLETTER):
        return LinkCheck(LinkOutcome.ALREADY_GIVEN, subject_id)
    if consents.subject_is_restricted(subject=get_user_model()(pk=subject_id)):
        return LinkCheck(LinkOutcome.RESTRICTED, subject_id)
    return LinkCheck(LinkOutcome.READY, subject_id)


def confirmation_check(*, token: str) -> LinkCheck:
    """What the link's page says before the button is pressed; reads only."""
    payload = _payload(token)
    if payload is None:
        return LinkCheck(LinkOutcome.INVALID)
    confirmation = ConsentConfirmation.objects.filter(pk=payload["c"], subject_id=payload["s"])
    return _check(payload, confirmation.first(), now=clock.now())


@transaction.atomic
def newsletter_optin_confirm(
    *, token: str, request_evidence: Mapping[str, str] | None = None
) -> LinkCheck:
    """The POST of the link's page: gives the newsletter consent, with its evidence (the link's
    times and hashes, and `request_evidence` of the confirming click), when the link is good;
    otherwise writes nothing and says why."""
    payload = _payload(token)
    if payload is None:
        return LinkCheck(LinkOutcome.INVALID)
    confirmation = (
        ConsentConfirmation.objects.select_for_update()
        .filter(pk=payload["c"], subject_id=payload["s"])
        .first()
    )
    now = clock.now()
    check = _check(payload, confirmation, now=now)
    if check.outcome != LinkOutcome.READY or confirmation is None:
        return check
    subject = get_user_model()._default_manager.get(pk=confirmation.subject_id)
    consents.consent_give(
        subject=subject,
        purpose=ConsentPurpose.NEWSLETTER,
        method=ConsentMethod.EMAIL_CONFIRMATION,
        evidence={
            **(request_evidence or {}),
            "how": EVIDENCE_HOW,
            "requested_at": confirmation.requested_at.isoformat(),
            "requested_via": confirmation.requested_via,
            "sent_at": confirmation.sent_at.isoformat() if confirmation.sent_at else "",
            "confirmed_at": now.isoformat(),
            "address_hash": confirmation.address_hash,
        },
    )
    confirmation.confirmed_at = now
    confirmation.save(update_fields=["confirmed_at"])
    return LinkCheck(LinkOutcome.CONFIRMED, check.subject_id)


@dataclass(frozen=True)
class OptinState:
    """What the privacy center's newsletter row says besides the ledger: a link waiting for its
    confirmation (and when it was sent), or that the address needs verifying first."""

    pending_since: datetime | None
    address_verified: bool


def newsletter_optin_state(*, subject: AbstractBaseUser) -> OptinState:
    now = clock.now()
    pending = (
        ConsentConfirmation.objects.filter(
            subject_id=subject.pk,
            purpose=ConsentPurpose.NEWSLETTER,
            confirmed_at__isnull=True,
            expires_at__gt=now,
        )
        .order_by("-requested_at", "-pk")
        .values_list("sent_at", "requested_at")
        .first()
    )
    return OptinState(
        pending_since=(pending[0] or pending[1]) if pending is not None else None,
        address_verified=verified_primary_address(user_id=subject.pk) is not None,
    )
