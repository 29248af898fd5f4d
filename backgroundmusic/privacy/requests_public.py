"""The public request form: people without an account, or who lost access to it, file a
data-subject request, proven by a one-time code e-mailed to the address they typed
(decision 0033-public-request-form).

`pending_request_start` keeps what was typed as a PendingRequest (the address and the words
sealed under the master key, a keyed digest of the address, a keyed hash of the code, never the
code) and queues the letter with the code (`send_request_code`; the code travels to the job
sealed). The code is CODE_DIGITS digits, works for CODE_LIFETIME and for CODE_ATTEMPTS wrong
tries; after that a new code must be asked (`pending_request_renew`, which makes the old one
count no more). Typed right, `pending_request_verify` logs the request through
requests.request_log_by_form (actor None, audited with "identity: e-mail address verified by a
one-time code"), linking the account whose verified primary address it is.

Nothing here tells whether an address belongs to an account: the same pages and the same letter
whatever the address. The views limit the rate per e-mail address (its digest) and per network
address (settings.RATE_LIMITS["request_code"]).
"""

import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.core.mail import job_message_id
from backgroundmusic.privacy.kernel import crypto
from backgroundmusic.privacy.kernel.pseudonyms import address_digest
from backgroundmusic.privacy.models import DataSubjectRequest, PendingRequest, RequestKind
from backgroundmusic.privacy.requests import REASON_MAX_LENGTH, request_log_by_form

CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=15)
CODE_ATTEMPTS = 3
# How long a pending request is kept at all (the data map's retention; the retention run
# deletes it): long enough to tell a late visitor their code expired.
PENDING_KEPT_DAYS = 1
ADDRESS_MAX_LENGTH = 254
SEAL_CONTEXT = "privacy.pending-request"
CODE_SEAL_CONTEXT = "privacy.pending-request.code"
CODE_HASH_SALT = "backgroundmusic.privacy.requests_public.code"


class CodeOutcome(StrEnum):
    LOGGED = "logged"  # the right code: the request is logged
    WRONG = "wrong"  # a wrong code, attempts_left tries remain (0: ask for a new code)
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"  # CODE_ATTEMPTS wrong codes were typed before
    SUPERSEDED = "superseded"  # a newer code was asked for
    SPENT = "spent"  # already typed right: the request was logged then
    GONE = "gone"  # no such pending request (kept a day only)


@dataclass(frozen=True)
class CodeCheck:
    outcome: CodeOutcome
    attempts_left: int = 0
    request: DataSubjectRequest | None = None


@dataclass(frozen=True)
class Typed:
    """What the person typed, as the form shows it back."""

    address: str
    details: str


def _code_hash(pending_id: int, code: str) -> str:
    return salted_hmac(CODE_HASH_SALT, f"{pending_id}:{code}").hexdigest()


def _new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def _typed(pending: PendingRequest) -> Typed:
    values = json.loads(crypto.open_with_master(pending.sealed, context=SEAL_CONTEXT))
    return Typed(address=values["address"], details=values["details"])


def _validated(*, address: str, kind: str, details: str) -> tuple[str, str]:
    address = address.strip()
    try:
        if len(address) > ADDRESS_MAX_LENGTH:
            raise ValidationError("too long")
        validate_email(address)
    except ValidationError as error:
        raise DomainError(
            _("Enter the e-mail address the code should be sent to."), code="invalid_address"
        ) from error
    if kind not in RequestKind.values:
        raise DomainError(_("Choose what you ask for."), code="invalid_kind")
    details = details.strip()
    if len(details) > REASON_MAX_LENGTH:
        raise DomainError(
            _("The description is too long (at most %(max)s characters).")
            % {"max": REASON_MAX_LENGTH},
            code="details_too_long",
        )
    return address, details


def _queue_code(pending: PendingRequest) -> None:
    """Gives the row a fresh code (its hash only) and queues the letter, in the caller's
    transaction."""
    from backgroundmusic.privacy import tasks

    code = _new_code()
    pending.code_hash = _code_hash(pending.pk, code)
    pending.save(update_fields=["code_hash"])
    tasks.send_request_code.enqueue(
        pending_id=pending.pk,
        sealed_code=crypto.seal_with_master(code, context=CODE_SEAL_CONTEXT),
    )


@transaction.atomic
def pending_request_start(
    *, address: str, kind: str, details: str, language: str
) -> PendingRequest:
    """Keeps the typed request until its code is typed back, and sends the code."""
    address, details = _validated(address=address, kind=kind, details=details)
    now = clock.now()
    pending = PendingRequest.objects.create(
        address_digest=address_digest(address=address),
        sealed=crypto.seal_with_master(
            json.dumps({"address": address, "details": details}), context=SEAL_CONTEXT
        ),
        kind=kind,
        language=language[:8],
        created_at=now,
        expires_at=now + CODE_LIFETIME,
    )
    _queue_code(pending)
    return pending


@transaction.atomic
def pending_request_renew(*, pending_id: int) -> PendingRequest:
    """ "Send a new code": the same typed request with a new code, valid CODE_LIFETIME; the old
    code counts no more. Refused once the request is logged or gone."""
    old = PendingRequest.objects.select_for_update().filter(pk=pending_id).first()
    if old is None:
        raise DomainError(
            _("This request was not kept: fill in the form again."), code="pending_gone"
        )
    if old.verified_at is not None:
        raise DomainError(
            _("This request is already logged; no new code is needed."), code="pending_spent"
        )
    now = clock.now()
    if old.superseded_at is None:
        old.superseded_at = now
        old.save(update_fields=["superseded_at"])
    pending = PendingRequest.objects.create(
        address_digest=old.address_digest,
        sealed=old.sealed,
        kind=old.kind,
        language=old.language,
        created_at=now,
        expires_at=now + CODE_LIFETIME,
    )
    _queue_code(pending)
    return pending


def pending_request_typed(*, pending_id: int) -> Typed | None:
    """What was typed, for the code page to show where the code went; None when gone."""
    pending = PendingRequest.objects.filter(pk=pending_id).first()
    return _typed(pending) if pending is not None else None


def pending_request_address_digest(*, pending_id: int) -> str | None:
    return (
        PendingRequest.objects.filter(pk=pending_id)
        .values_list("address_digest", flat=True)
        .first()
    )


def pending_request_verify(*, pending_id: int, code: str) -> CodeCheck:
    """Checks a typed code. The right one logs the request (once); a wrong one counts against
    CODE_ATTEMPTS and logs nothing; an expired, exhausted or replaced code is refused as such."""
    with transaction.atomic():
        pending = PendingRequest.objects.select_for_update().filter(pk=pending_id).first()
        if pending is None:
            return CodeCheck(CodeOutcome.GONE)
        if pending.verified_at is not None:
            return CodeCheck(CodeOutcome.SPENT, request=pending.request)
        if pending.superseded_at is not None:
            return CodeCheck(CodeOutcome.SUPERSEDED)
        now = clock.now()
        if now >= pending.expires_at:
            return CodeCheck(CodeOutcome.EXPIRED)
        if pending.attempts >= CODE_ATTEMPTS:
            return CodeCheck(CodeOutcome.EXHAUSTED)
        if not constant_time_compare(_code_hash(pending.pk, code.strip()), pending.code_hash):
            pending.attempts += 1
            pending.save(update_fields=["attempts"])
            return CodeCheck(CodeOutcome.WRONG, attempts_left=CODE_ATTEMPTS - pending.attempts)
        typed = _typed(pending)
        request = request_log_by_form(
            kind=pending.kind,
            address=typed.address,
            details=typed.details,
            language=pending.language,
            received_at=now,
        )
        pending.verified_at = now
        pending.request = request
        pending.save(update_fields=["verified_at", "request"])
        return CodeCheck(CodeOutcome.LOGGED, request=request)


def request_code_send(*, pending_id: int, sealed_code: str) -> str:
    """The job: e-mails the code (text and HTML, in the form's language) to the typed address
    while it can still be used; returns what happened."""
    with transaction.atomic():
        pending = PendingRequest.objects.select_for_update().filter(pk=pending_id).first()
        if pending is None:
            return "gone"
        if pending.sent_at is not None:
            return "sent"
        if (
            pending.verified_at is not None
            or pending.superseded_at is not None
            or pending.expires_at <= clock.now()
        ):
            return "not needed"
        code = crypto.open_with_master(sealed_code, context=CODE_SEAL_CONTEXT)
        if not constant_time_compare(_code_hash(pending.pk, code), pending.code_hash):
            return "not this code"
        context = {
            "code": code,
            "minutes": int(CODE_LIFETIME.total_seconds() // 60),
            "attempts": CODE_ATTEMPTS,
            "kind": RequestKind(pending.kind).label,
            "privacy_address": settings.PRIVACY_ADDRESS,
        }
        with translation.override(pending.language or settings.LANGUAGE_CODE):
            message = EmailMultiAlternatives(
                subject=render_to_string("privacy/request_code_email_subject.txt", context).strip(),
                body=render_to_string("privacy/request_code_email.txt", context),
                to=[_typed(pending).address],
                headers=job_message_id("request-code", pending.pk),
            )
            message.attach_alternative(
                render_to_string("privacy/request_code_email.html", context), "text/html"
            )
        message.send()
        pending.sent_at = clock.now()
        pending.save(update_fields=["sent_at"])
        return "sent"


def pending_requests_reseal() -> int:
    """Re-seals pending requests not under the current master key; returns how many changed."""
    current = crypto.master_key_ring().current_id
    changed = 0
    for pending in PendingRequest.objects.order_by("pk").iterator():
        if crypto.master_token_key_id(pending.sealed) == current:
            continue
        sealed = crypto.seal_with_master(
            crypto.open_with_master(pending.sealed, context=SEAL_CONTEXT), context=SEAL_CONTEXT
        )
        PendingRequest.objects.filter(pk=pending.pk).update(sealed=sealed)
        changed += 1
    return changed
