"""The letters about an incident to the people it affects: queued all at once, sent by jobs in
batches over one connection each, to each person's verified primary address, in the language of
their profile.

Each letter is taken in a short transaction of its own that locks its row (FOR UPDATE SKIP
LOCKED on PostgreSQL, so batches side by side take different letters), sends it and marks it;
a batch killed midway leaves its unsent letters queued, and the resuming job (every ten minutes)
enqueues a batch for any incident whose letters wait longer than RESUME_AFTER. A person without
a verified primary address is recorded as such; nobody is written to twice by a finished batch.
"""

import smtplib
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction

from backgroundmusic.accounts.models import Profile
from backgroundmusic.core import clock
from backgroundmusic.core.mail import job_message_id
from backgroundmusic.incidents import tasks
from backgroundmusic.incidents.models import (
    Incident,
    IncidentLetter,
    LetterStatus,
    Notice,
    NoticeKind,
)
from backgroundmusic.privacy.kernel.pseudonyms import subject_pseudonym

RESUME_AFTER = timedelta(minutes=10)
LANGUAGES = {code for code, _name in settings.LANGUAGES}


def _batches(count: int) -> int:
    return -(-count // settings.INCIDENT_LETTER_BATCH_SIZE)


def letters_queue(*, incident: Incident, now: datetime) -> int:
    """One queued letter per affected person (in the caller's transaction) and the batch jobs
    that send them. The service letters_send is the caller."""
    subject_ids = list(incident.affected_subject_ids)
    languages = dict(
        Profile.objects.filter(user_id__in=subject_ids).values_list("user_id", "language")
    )
    IncidentLetter.objects.bulk_create(
        [
            IncidentLetter(
                incident=incident,
                recipient_id=subject_id,
                recipient_pseudonym=subject_pseudonym(subject_id=subject_id),
                language=(
                    languages[subject_id]
                    if languages.get(subject_id) in LANGUAGES
                    else settings.LANGUAGE_CODE
                ),
                queued_at=now,
            )
            for subject_id in subject_ids
        ],
        batch_size=1000,
    )
    for _batch in range(_batches(len(subject_ids))):
        tasks.send_incident_letters.enqueue(incident_id=incident.pk)
    return len(subject_ids)


def _verified_address(user_id: int | None) -> str:
    if user_id is None:
        return ""
    found = (
        EmailAddress.objects.filter(
            user_id=user_id, primary=True, verified=True, user__is_active=True
        )
        .values_list("email", flat=True)
        .first()
    )
    return found or ""


def _failure(error: smtplib.SMTPRecipientsRefused) -> str:
    """The class of the refusal and the server's reply codes, never the address."""
    codes = sorted({str(code) for code, _text in error.recipients.values()})
    return f"{type(error).__name__} {' '.join(codes)}".strip()


def _send_one(letter_id: int, notice: Notice, connection: object) -> str | None:
    """Sends one queued letter; its new status, or None when another batch has it."""
    with transaction.atomic():
        letter = (
            IncidentLetter.objects.select_for_update(skip_locked=True)
            .filter(pk=letter_id, status=LetterStatus.QUEUED)
            .first()
        )
        if letter is None:
            return None
        address = _verified_address(letter.recipient_id)
        if not address:
            letter.status = LetterStatus.NO_ADDRESS
            letter.save(update_fields=["status"])
            return letter.status
        message = EmailMessage(
            subject=notice.subject_in(letter.language),
            body=notice.text_in(letter.language),
            to=[address],
            reply_to=[settings.PRIVACY_ADDRESS],
            headers=job_message_id("incident-letter", letter.pk),
            connection=connection,
        )
        try:
            message.send()
        except smtplib.SMTPRecipientsRefused as refused:
            letter.status, letter.error = LetterStatus.FAILED, _failure(refused)
            letter.save(update_fields=["status", "error"])
            return letter.status
        letter.status, letter.sent_at = LetterStatus.SENT, clock.now()
        letter.save(update_fields=["status", "sent_at"])
        return letter.status


def letters_send_batch(*, incident_id: int, limit: int | None = None) -> dict[str, int]:
    """Sends up to a batch of the incident's queued letters over one connection; counts by the
    status each letter took. A connection or server failure ends the batch (the letters stay
    queued for the resuming job)."""
    counts: dict[str, int] = {}
    notice = Notice.objects.filter(incident_id=incident_id, kind=NoticeKind.PEOPLE).first()
    if notice is None:
        return counts
    waiting = list(
        IncidentLetter.objects.filter(incident_id=incident_id, status=LetterStatus.QUEUED)
        .order_by("pk")
        .values_list("pk", flat=True)[: limit or settings.INCIDENT_LETTER_BATCH_SIZE]
    )
    if not waiting:
        return counts
    with get_connection(fail_silently=False) as connection:
        for letter_id in waiting:
            status = _send_one(letter_id, notice, connection)
            if status is not None:
                counts[status] = counts.get(status, 0) + 1
    return counts


def letters_resume() -> int:
    """Enqueues the batches of incidents whose letters have waited longer than RESUME_AFTER (a
    batch was killed, or the mail server failed); returns how many were enqueued."""
    waiting = (
        IncidentLetter.objects.filter(
            status=LetterStatus.QUEUED, queued_at__lt=clock.now() - RESUME_AFTER
        )
        .values_list("incident_id", flat=True)
        .order_by("incident_id")
    )
    counts: dict[int, int] = {}
    for incident_id in waiting:
        counts[incident_id] = counts.get(incident_id, 0) + 1
    enqueued = 0
    for incident_id, count in counts.items():
        for _batch in range(_batches(count)):
            tasks.send_incident_letters.enqueue(incident_id=incident_id)
            enqueued += 1
    return enqueued
