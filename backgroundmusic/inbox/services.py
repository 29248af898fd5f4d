"""The inbox: every letter to the service's addresses is recorded once, with what was done.

Readers (readers.py: a Maildir folder, an IMAP mailbox; webhooks.py: a provider's inbound
webhook) all hand the letter's bytes to `inbound_record`, which
- records it once: by the digests of its Message-ID and of its bytes, so a reader that crashed
  before marking the letter read and brings it again finds the first record;
- rejects what cannot be read safely (too large, malformed, NUL, bidi and other control
  characters, an unreadable sender), keeping the letter for staff but acting on nothing;
- ignores automatic replies (RFC 3834), so two autoresponders cannot loop through us;
- records delivery reports to the bounce address (bounces.py);
- to the unsubscribe address, from a verified account address: withdraws the newsletter consent
  at once (the mailing app's consent listener cancels what is queued);
- to the privacy address: logs a data-subject request for staff (privacy.requests.
  request_log_received, deadlines from the letter's arrival) and, when the sender is a verified
  account address, sends that address a link; following it links the request to the account
  and verifies the identity (`inbound_confirm`).
Nothing is ever sent to a sender that is not a verified account address (no backscatter), and
the only thing ever sent is that link.
"""

import base64
import hashlib
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.inbox.bounces import hard_bounce_addresses
from backgroundmusic.inbox.models import InboundMessage, InboundRawMessage, Mailbox, Outcome
from backgroundmusic.inbox.parsing import (
    Letter,
    LetterRejected,
    address_normal,
    letter_kind,
    letter_parse,
    local_part_base,
    message_id_of,
)
from backgroundmusic.inbox.selectors import (
    account_for_verified_address,
    verified_address_with_digest,
)
from backgroundmusic.mailing.models import SuppressionReason
from backgroundmusic.mailing.services import suppression_record
from backgroundmusic.privacy import consents
from backgroundmusic.privacy.kernel import crypto
from backgroundmusic.privacy.kernel.pseudonyms import address_digest
from backgroundmusic.privacy.models import ConsentMethod, ConsentPurpose
from backgroundmusic.privacy.requests import request_confirm_by_link, request_log_received

RAW_CONTEXT = "inbox.raw"
# Of a letter too large to read, only its start is kept (for staff to see who wrote and why).
KEPT_OF_TOO_LARGE = 64 * 1024
CONFIRMATION_SALT = "inbox.request-confirmation"


def _digests(raw: bytes) -> tuple[str, str]:
    message_id = message_id_of(raw)
    return (
        hashlib.sha256(message_id.encode()).hexdigest() if message_id else "",
        hashlib.sha256(raw).hexdigest(),
    )


def _ours() -> dict[str, str]:
    return {
        str(settings.PRIVACY_ADDRESS).lower(): Mailbox.PRIVACY,
        str(settings.UNSUBSCRIBE_ADDRESS).lower(): Mailbox.UNSUBSCRIBE,
        str(settings.BOUNCE_ADDRESS).lower(): Mailbox.BOUNCE,
    }


def _mailbox(envelope_recipient: str, letter: Letter | None) -> str:
    """Which of our addresses the letter was sent to: the envelope's recipient when the reader
    knows it, else the first of ours among Delivered-To, X-Original-To, To and Cc."""
    ours = _ours()
    candidates = [address_normal(envelope_recipient) or ""]
    if letter is not None:
        candidates += list(letter.recipients)
    for candidate in candidates:
        mailbox = ours.get(local_part_base(candidate)) if candidate else None
        if mailbox is not None:
            return mailbox
    return Mailbox.OTHER


def _seal(raw: bytes) -> tuple[str, bool]:
    truncated = len(raw) > settings.INBOX_MAX_MESSAGE_BYTES
    kept = raw[:KEPT_OF_TOO_LARGE] if truncated else raw
    return crypto.seal_with_master(base64.b64encode(kept).decode(), context=RAW_CONTEXT), truncated


def raw_letter(*, message: InboundMessage) -> bytes | None:
    """The letter's bytes as they arrived (its start, when it was too large), or None once the
    retention run has deleted them."""
    raw = InboundRawMessage.objects.filter(message=message).first()
    if raw is None:
        return None
    return base64.b64decode(crypto.open_with_master(raw.sealed, context=RAW_CONTEXT))


def inbound_record(
    *, raw: bytes, received_at: datetime, envelope_recipient: str = ""
) -> InboundMessage:
    """Records one letter and does what it asks (module docstring); returns its record, the
    existing one when this letter was recorded before."""
    message_id_digest, content_digest = _digests(raw)
    existing = InboundMessage.objects.filter(
        message_id_digest=message_id_digest, content_digest=content_digest
    ).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return _record(
                raw=raw,
                # A server's clock a little ahead of ours must not put the arrival in the future.
                received_at=min(received_at, clock.now()),
                envelope_recipient=envelope_recipient,
                message_id_digest=message_id_digest,
                content_digest=content_digest,
            )
    except IntegrityError:
        # Another reader recorded the same letter in the meantime.
        return InboundMessage.objects.get(
            message_id_digest=message_id_digest, content_digest=content_digest
        )


def _record(
    *,
    raw: bytes,
    received_at: datetime,
    envelope_recipient: str,
    message_id_digest: str,
    content_digest: str,
) -> InboundMessage:
    record = InboundMessage(
        received_at=received_at,
        message_id_digest=message_id_digest,
        content_digest=content_digest,
    )
    try:
        letter: Letter | None = letter_parse(raw, max_bytes=settings.INBOX_MAX_MESSAGE_BYTES)
    except LetterRejected as rejected:
        letter = None
        record.outcome = Outcome.REJECTED_MALFORMED
        record.rejection = rejected.code[:32]
    record.mailbox = _mailbox(envelope_recipient, letter)
    if letter is not None:
        record.sender_digest = address_digest(address=letter.sender) if letter.sender else None
    record.outcome = record.outcome or _outcome_before_acting(record, letter)
    # The row first (its unique constraint decides whether this reader records the letter), then
    # what the letter asks.
    record.save()
    sealed, truncated = _seal(raw)
    InboundRawMessage.objects.create(
        message=record, received_at=received_at, sealed=sealed, truncated=truncated
    )
    if letter is not None and not record.outcome:
        _act(record, letter)
    elif letter is not None and letter.delivery_report and record.mailbox == Mailbox.BOUNCE:
        _suppress_hard_bounces(letter)
    return record


def _suppress_hard_bounces(letter: Letter) -> None:
    """A delivery report to the bounce address: each recipient it says can never be reached gets
    no more newsletters (the suppression list keeps only a keyed digest of the address)."""
    for address in hard_bounce_addresses(letter.message):
        suppression_record(address=address, reason=SuppressionReason.HARD_BOUNCE)


def _outcome_before_acting(record: InboundMessage, letter: Letter | None) -> str:
    """The outcome of a letter nothing is done for, or "" when it is to be acted on."""
    assert letter is not None
    if letter.delivery_report:
        return str(Outcome.BOUNCE)
    if letter.auto_reply:
        return str(Outcome.IGNORED_AUTO_REPLY)
    if record.mailbox in (Mailbox.OTHER, Mailbox.BOUNCE):
        return str(Outcome.IGNORED_NOT_OURS)
    return ""


def _act(record: InboundMessage, letter: Letter) -> None:
    subject = account_for_verified_address(address=letter.sender)
    record.subject = subject
    if record.mailbox == Mailbox.UNSUBSCRIBE:
        if subject is None:
            record.outcome = Outcome.UNKNOWN_SENDER
        else:
            consents.consent_withdraw(
                subject=subject,
                purpose=ConsentPurpose.NEWSLETTER,
                method=ConsentMethod.INBOUND_EMAIL,
                evidence=consents.consent_evidence(letter=str(record.pk)),
            )
            record.outcome = Outcome.UNSUBSCRIBED
    else:
        record.request = request_log_received(
            kind=letter_kind(subject=letter.subject, text=letter.text),
            received_at=record.received_at,
            requester_contact=letter.sender,
        )
        record.outcome = Outcome.REQUEST_LOGGED if subject is None else Outcome.CONFIRMATION_SENT
    record.save(update_fields=["subject", "request", "outcome"])
    if record.outcome == Outcome.CONFIRMATION_SENT:
        from backgroundmusic.inbox.tasks import send_request_confirmation

        send_request_confirmation.enqueue(message_id=record.pk)


def confirmation_token(*, message: InboundMessage) -> str:
    return signing.dumps({"m": message.pk}, salt=CONFIRMATION_SALT, compress=True)


def _confirmation_message(token: str) -> InboundMessage:
    max_age = settings.INBOX_CONFIRMATION_MAX_AGE
    try:
        payload: Any = signing.loads(token, salt=CONFIRMATION_SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise DomainError(
            _(
                "This confirmation link has expired. Write to us again from the same address, "
                "and we will send a new one."
            ),
            code="link_expired",
        ) from exc
    except signing.BadSignature as exc:
        raise DomainError(_("This confirmation link is not valid."), code="link_invalid") from exc
    message_id = payload.get("m") if isinstance(payload, dict) else None
    message = (
        InboundMessage.objects.select_related("request").filter(pk=message_id).first()
        if isinstance(message_id, int)
        else None
    )
    if message is None or message.request is None or message.subject_id is None:
        raise DomainError(
            _("There is no request to confirm any more: it was answered or removed."),
            code="request_gone",
        )
    digest = message.sender_digest
    if digest is None or (
        verified_address_with_digest(subject_id=message.subject_id, digest=digest) is None
    ):
        raise DomainError(
            _(
                "The address this link was sent to is no longer a verified address of the "
                "account, so it cannot confirm the request."
            ),
            code="address_gone",
        )
    return message


def confirmation_pending(*, token: str) -> InboundMessage:
    """The letter a confirmation link is for, checked as the POST will check it (DomainError
    otherwise); changes nothing."""
    return _confirmation_message(token)


@transaction.atomic
def inbound_confirm(*, token: str) -> InboundMessage:
    """The sender followed the link sent to the account's verified address: the request is
    linked to that account with its identity verified (audited as the system's, with the reason
    privacy.requests.CONFIRMED_BY_LINK_REASON). Following it again changes nothing."""
    message = _confirmation_message(token)
    assert message.request_id is not None and message.subject is not None
    request_confirm_by_link(request_id=message.request_id, subject=message.subject)
    if message.outcome != Outcome.CONFIRMED:
        message.outcome = Outcome.CONFIRMED
        message.save(update_fields=["outcome"])
    return message


def raw_letters_reseal() -> int:
    """Re-seals kept letters not under the current master key; returns how many changed."""
    current = crypto.master_key_ring().current_id
    changed = 0
    for raw in InboundRawMessage.objects.order_by("pk").iterator():
        if crypto.master_token_key_id(raw.sealed) == current:
            continue
        sealed = crypto.seal_with_master(
            crypto.open_with_master(raw.sealed, context=RAW_CONTEXT), context=RAW_CONTEXT
        )
        InboundRawMessage.objects.filter(pk=raw.pk).update(sealed=sealed)
        changed += 1
    return changed
