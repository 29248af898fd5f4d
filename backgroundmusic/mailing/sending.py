"""Sending a campaign's queued messages in batches, each over one connection of the configured
mail backend (SMTP or files embedded, an anymail provider when configured).

A batch claims up to MAILING_BATCH_SIZE queued messages in one short transaction (FOR UPDATE
SKIP LOCKED on PostgreSQL, so batches running side by side take different rows), asking the
audience selector again for those people: whoever is no longer in it (consent withdrawn,
restricted, suspended, address gone or suppressed, account closed) is cancelled. Then each
message is rendered for its person and sent, and its row marked sent in its own statement right
after: a batch killed midway leaves only the rows it had not sent queued, and they are taken
again once their claim is older than MAILING_CLAIM_SECONDS (the every-minute job enqueues that
batch).
"""

import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from anymail.exceptions import AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import Q

from backgroundmusic.core import clock
from backgroundmusic.mailing import rendering, tasks
from backgroundmusic.mailing.models import (
    Campaign,
    CampaignMessage,
    CampaignStatus,
    MessageStatus,
    UnsubscribeToken,
)
from backgroundmusic.mailing.selectors import NewsletterRecipient, newsletter_recipients
from backgroundmusic.privacy.kernel.pseudonyms import unsubscribe_token


def claim_timeout() -> timedelta:
    return timedelta(seconds=settings.MAILING_CLAIM_SECONDS)


# A message whose sending failed this many times for reasons other than its recipient (the
# connection, the server) is marked failed instead of being taken again.
MAX_ATTEMPTS = 3


@dataclass
class BatchOutcome:
    sent: int = 0
    failed: int = 0
    cancelled: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Claimed:
    message_id: int
    recipient: NewsletterRecipient
    token: str


def _claimable(campaign_id: int, now: datetime) -> Q:
    return Q(campaign_id=campaign_id, status=MessageStatus.QUEUED) & (
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - claim_timeout())
    )


def _failure(error: Exception) -> str:
    """What the row keeps of a failure: the exception's class and the server's reply codes,
    never an address or the server's text (which often repeats the address)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(code) for code, _text in error.recipients.values()})
        return f"{type(error).__name__} {' '.join(codes)}".strip()
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{type(error).__name__} {error.smtp_code}"
    return type(error).__name__


def batch_claim(*, campaign_id: int, limit: int) -> tuple[list[Claimed], int]:
    """Takes up to `limit` claimable messages of a campaign that is sending; returns those still
    to send (with their person's address, language and token) and how many were cancelled."""
    now = clock.now()
    with transaction.atomic():
        if not Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.SENDING).exists():
            return [], 0
        rows = list(
            CampaignMessage.objects.select_for_update(skip_locked=True)
            .filter(_claimable(campaign_id, now))
            .order_by("pk")
            .values_list("pk", "recipient_id", "attempts")[:limit]
        )
        if not rows:
            return [], 0
        people = [user_id for _pk, user_id, _attempts in rows if user_id is not None]
        recipients = newsletter_recipients(subject_ids=people) if people else {}
        seeds = dict(
            UnsubscribeToken.objects.filter(user_id__in=list(recipients)).values_list(
                "user_id", "seed"
            )
        )
        gone = [pk for pk, user_id, _a in rows if user_id not in recipients or user_id not in seeds]
        exhausted = [
            pk for pk, user_id, attempts in rows if pk not in gone and attempts >= MAX_ATTEMPTS
        ]
        taken = [pk for pk, _u, _a in rows if pk not in gone and pk not in exhausted]
        CampaignMessage.objects.filter(pk__in=gone).update(
            status=MessageStatus.CANCELLED, claimed_at=None
        )
        CampaignMessage.objects.filter(pk__in=exhausted).update(
            status=MessageStatus.FAILED, claimed_at=None
        )
        attempts = {pk: tried for pk, _u, tried in rows}
        for pk in taken:
            CampaignMessage.objects.filter(pk=pk).update(claimed_at=now, attempts=attempts[pk] + 1)
    by_pk = {pk: user_id for pk, user_id, _a in rows}
    return [
        Claimed(
            message_id=pk,
            recipient=recipients[by_pk[pk]],
            token=unsubscribe_token(seed=seeds[by_pk[pk]]),
        )
        for pk in taken
    ], len(gone)


def _campaign_finish_if_done(campaign_id: int) -> None:
    if not CampaignMessage.objects.filter(
        campaign_id=campaign_id, status=MessageStatus.QUEUED
    ).exists():
        now = clock.now()
        Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.SENDING).update(
            status=CampaignStatus.SENT, finished_at=now, updated_at=now
        )


def batch_send(*, campaign_id: int, limit: int | None = None) -> BatchOutcome:
    """Claims one batch of the campaign's queued messages and sends them over one connection."""
    outcome = BatchOutcome()
    claimed, outcome.cancelled = batch_claim(
        campaign_id=campaign_id, limit=limit or settings.MAILING_BATCH_SIZE
    )
    if claimed:
        campaign = Campaign.objects.get(pk=campaign_id)
        connection = get_connection(fail_silently=False)
        with connection:
            for item in claimed:
                _send_one(campaign, item, connection, outcome)
    _campaign_finish_if_done(campaign_id)
    return outcome


def _send_one(campaign: Campaign, item: Claimed, connection: object, outcome: BatchOutcome) -> None:
    if not CampaignMessage.objects.filter(pk=item.message_id, status=MessageStatus.QUEUED).exists():
        # Cancelled since the claim: the person's consent stopped, or the campaign was cancelled.
        outcome.cancelled += 1
        return
    rendered = rendering.render_campaign(
        campaign=campaign,
        language=item.recipient.language,
        unsubscribe_url=rendering.unsubscribe_url(token=item.token),
    )
    message = rendering.newsletter_email(
        rendered=rendered,
        address=item.recipient.address,
        connection=connection,
        message_id=item.message_id,
    )
    try:
        message.send()
    except (smtplib.SMTPRecipientsRefused, AnymailRecipientsRefused) as refused:
        # This address is refused; the connection is fine for the rest.
        CampaignMessage.objects.filter(pk=item.message_id, status=MessageStatus.QUEUED).update(
            status=MessageStatus.FAILED, error=_failure(refused), claimed_at=None
        )
        outcome.failed += 1
        return
    except Exception as error:
        # The connection or the server failed: the row stays claimed and queued, and is taken
        # again after claim_timeout() (at most MAX_ATTEMPTS times); the rest of the batch too.
        CampaignMessage.objects.filter(pk=item.message_id).update(error=_failure(error))
        outcome.errors.append(_failure(error))
        raise
    CampaignMessage.objects.filter(pk=item.message_id, status=MessageStatus.QUEUED).update(
        status=MessageStatus.SENT, sent_at=clock.now(), error=""
    )
    outcome.sent += 1


def batches_resume() -> int:
    """Enqueues a batch for each full or partial batch of messages whose claim has expired (their
    batch was killed or its connection failed). Returns how many batches were enqueued."""
    now = clock.now()
    stale = (
        CampaignMessage.objects.filter(
            status=MessageStatus.QUEUED,
            claimed_at__lt=now - claim_timeout(),
            campaign__status=CampaignStatus.SENDING,
        )
        .values_list("campaign_id", flat=True)
        .order_by("campaign_id")
    )
    counts: dict[int, int] = {}
    for campaign_id in stale:
        counts[campaign_id] = counts.get(campaign_id, 0) + 1
    enqueued = 0
    for campaign_id, count in counts.items():
        for _batch in range(-(-count // settings.MAILING_BATCH_SIZE)):
            tasks.send_campaign_batch.enqueue(campaign_id=campaign_id)
            enqueued += 1
    for campaign_id in Campaign.objects.filter(status=CampaignStatus.SENDING).values_list(
        "pk", flat=True
    ):
        _campaign_finish_if_done(campaign_id)
    return enqueued


def test_send(*, campaign_id: int, user_id: int, language: str) -> bool:
    """Sends one test message of the campaign to the person's verified primary address, over the
    same path as the campaign's messages. False when there is no longer such an address."""
    from backgroundmusic.mailing.services import unsubscribe_tokens_ensure

    address = rendering.verified_address(user_id=user_id)
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if not address or campaign is None:
        return False
    unsubscribe_tokens_ensure(user_ids=[user_id])
    seed = UnsubscribeToken.objects.values_list("seed", flat=True).get(user_id=user_id)
    rendered = rendering.render_campaign(
        campaign=campaign,
        language=rendering.checked_language(language),
        unsubscribe_url=rendering.unsubscribe_url(token=unsubscribe_token(seed=seed)),
        test=True,
    )
    rendering.newsletter_email(rendered=rendered, address=address).send()
    return True
