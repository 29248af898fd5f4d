"""Every write of the mailing app: campaigns (for newsletter editors), starting them, the queue
stopping when a consent stops, one-click unsubscribe and the suppression list.

The staff services take `actor`, ask staffroles' staff_may_manage_campaigns and write their
audit rows in their transaction; the rest are the system's (the recurring job, the unsubscribe
page, the providers' webhooks, the consent listener)."""

import hashlib
import math
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils.translation import gettext as _

from backgroundmusic.audit.models import AuditAction
from backgroundmusic.audit.refusals import refusals_audited
from backgroundmusic.audit.services import audit_record
from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.mailing import rendering, tasks
from backgroundmusic.mailing.models import (
    Campaign,
    CampaignMessage,
    CampaignStatus,
    MessageStatus,
    Suppression,
    SuppressionReason,
    UnsubscribeToken,
)
from backgroundmusic.mailing.selectors import newsletter_recipients
from backgroundmusic.privacy.consents import consent_withdraw
from backgroundmusic.privacy.kernel.pseudonyms import address_digest, unsubscribe_token
from backgroundmusic.privacy.models import ConsentMethod, ConsentPurpose
from backgroundmusic.staffroles.selectors import staff_may_manage_campaigns, staff_require

Actor = AbstractBaseUser | AnonymousUser

SUBJECT_MAX = 200
BODY_MAX = 100_000
# A time "now" typed on a page reaches the service a little later; a minute of grace.
SCHEDULE_GRACE = timedelta(minutes=1)
TOKEN_PATTERN = re.compile(r"[0-9a-f]{64}")


class CampaignError(DomainError):
    """A campaign action the rules refuse (its message says why, in the caller's language)."""


@dataclass(frozen=True)
class CampaignText:
    subject_en: str
    subject_ru: str
    body_en: str
    body_ru: str


def _checked_text(text: CampaignText) -> CampaignText:
    fields = {
        "subject_en": text.subject_en.strip(),
        "subject_ru": text.subject_ru.strip(),
        "body_en": text.body_en.strip(),
        "body_ru": text.body_ru.strip(),
    }
    if not all(fields.values()):
        raise CampaignError(
            _("A campaign needs a subject and a text in both English and Russian."),
            code="text_missing",
        )
    if any(len(fields[name]) > SUBJECT_MAX for name in ("subject_en", "subject_ru")):
        raise CampaignError(
            _("A subject has at most %(limit)d characters.") % {"limit": SUBJECT_MAX},
            code="subject_too_long",
        )
    if any("\n" in fields[name] or "\r" in fields[name] for name in ("subject_en", "subject_ru")):
        raise CampaignError(_("A subject is one line."), code="subject_line")
    if any(len(fields[name]) > BODY_MAX for name in ("body_en", "body_ru")):
        raise CampaignError(
            _("A text has at most %(limit)d characters.") % {"limit": BODY_MAX},
            code="body_too_long",
        )
    return CampaignText(**fields)


def _locked(campaign: Campaign) -> Campaign:
    return Campaign.objects.select_for_update().get(pk=campaign.pk)


@refusals_audited("mailing.campaign_create")
@transaction.atomic
def campaign_create(*, actor: Actor | None, text: CampaignText) -> Campaign:
    """A new draft campaign."""
    staff = staff_require(actor=actor, may=staff_may_manage_campaigns)
    checked = _checked_text(text)
    now = clock.now()
    campaign = Campaign.objects.create(
        subject_en=checked.subject_en,
        subject_ru=checked.subject_ru,
        body_en=checked.body_en,
        body_ru=checked.body_ru,
        status=CampaignStatus.DRAFT,
        created_by_id=staff.pk,
        created_at=now,
        updated_at=now,
    )
    audit_record(
        actor=staff,
        action=AuditAction.CAMPAIGN_CREATED,
        target=campaign,
        after={"status": CampaignStatus.DRAFT},
    )
    return campaign


@refusals_audited("mailing.campaign_update")
@transaction.atomic
def campaign_update(*, actor: Actor | None, campaign: Campaign, text: CampaignText) -> Campaign:
    """Changes a draft's subjects and texts (a scheduled campaign is cancelled and copied
    instead). An update that changes nothing writes nothing."""
    staff = staff_require(actor=actor, may=staff_may_manage_campaigns)
    checked = _checked_text(text)
    campaign = _locked(campaign)
    if campaign.status != CampaignStatus.DRAFT:
        raise CampaignError(_("Only a draft can be changed."), code="not_draft")
    changed = [
        name
        for name in ("subject_en", "subject_ru", "body_en", "body_ru")
        if getattr(campaign, name) != getattr(checked, name)
    ]
    if not changed:
        return campaign
    for name in changed:
        setattr(campaign, name, getattr(checked, name))
    campaign.updated_at = clock.now()
    campaign.save(update_fields=[*changed, "updated_at"])
    audit_record(
        actor=staff,
        action=AuditAction.CAMPAIGN_UPDATED,
        target=campaign,
        after={"fields": changed},
    )
    return campaign


@refusals_audited("mailing.campaign_schedule")
@transaction.atomic
def campaign_schedule(
    *, actor: Actor | None, campaign: Campaign, send_at: datetime | None = None
) -> Campaign:
    """Schedules a draft for `send_at` (None: now). The recurring job starts it within a minute
    of that time; the audience is computed then."""
    staff = staff_require(actor=actor, may=staff_may_manage_campaigns)
    now = clock.now()
    when = send_at or now
    if when < now - SCHEDULE_GRACE:
        raise CampaignError(_("Choose a time in the future, or send now."), code="in_the_past")
    campaign = _locked(campaign)
    if campaign.status != CampaignStatus.DRAFT:
        raise CampaignError(_("Only a draft can be scheduled."), code="not_draft")
    campaign.status = CampaignStatus.SCHEDULED
    campaign.scheduled_for = max(when, now)
    campaign.updated_at = now
    campaign.save(update_fields=["status", "scheduled_for", "updated_at"])
    audit_record(
        actor=staff,
        action=AuditAction.CAMPAIGN_SCHEDULED,
        target=campaign,
        before={"status": CampaignStatus.DRAFT},
        after={
            "status": CampaignStatus.SCHEDULED,
            "scheduled_for": campaign.scheduled_for.isoformat(),
        },
    )
    return campaign


@refusals_audited("mailing.campaign_cancel")
@transaction.atomic
def campaign_cancel(*, actor: Actor | None, campaign: Campaign) -> Campaign:
    """Cancels a draft, a scheduled campaign or one being sent: its queued messages are cancelled
    (what has left, has left)."""
    staff = staff_require(actor=actor, may=staff_may_manage_campaigns)
    campaign = _locked(campaign)
    before = campaign.status
    if before not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.SENDING):
        raise CampaignError(
            _("A campaign that is sent or cancelled cannot be cancelled."), code="finished"
        )
    now = clock.now()
    cancelled = CampaignMessage.objects.filter(
        campaign=campaign, status=MessageStatus.QUEUED
    ).update(status=MessageStatus.CANCELLED, claimed_at=None)
    campaign.status = CampaignStatus.CANCELLED
    campaign.updated_at = now
    campaign.finished_at = now
    campaign.save(update_fields=["status", "updated_at", "finished_at"])
    audit_record(
        actor=staff,
        action=AuditAction.CAMPAIGN_CANCELLED,
        target=campaign,
        before={"status": before},
        after={"status": CampaignStatus.CANCELLED, "messages_cancelled": cancelled},
    )
    return campaign


@refusals_audited("mailing.campaign_test_send")
@transaction.atomic
def campaign_test_send(*, actor: Actor | None, campaign: Campaign, language: str) -> None:
    """Sends the campaign in `language` to the actor's own verified primary address, its subject
    marked as a test (a job enqueued in this transaction)."""
    staff = staff_require(actor=actor, may=staff_may_manage_campaigns)
    language = rendering.checked_language(language)
    if not rendering.verified_address(user_id=staff.pk):
        raise CampaignError(
            _("Your account has no verified e-mail address to send the test to."),
            code="no_address",
        )
    audit_record(
        actor=staff,
        action=AuditAction.CAMPAIGN_TEST_SENT,
        target=campaign,
        after={"language": language},
    )
    tasks.send_campaign_test.enqueue(campaign_id=campaign.pk, user_id=staff.pk, language=language)


@refusals_audited("mailing.campaign_preview")
def campaign_preview(
    *, actor: Actor | None, campaign: Campaign, language: str
) -> rendering.RenderedMessage:
    """The campaign as a recipient in `language` would get it (HTML and text), with a link that
    unsubscribes nobody."""
    staff_require(actor=actor, may=staff_may_manage_campaigns)
    return rendering.render_campaign(
        campaign=campaign,
        language=rendering.checked_language(language),
        unsubscribe_url=rendering.unsubscribe_url(token="0" * 64),
    )


def unsubscribe_tokens_ensure(*, user_ids: list[int]) -> None:
    """Gives each of these people their one unsubscribe token, unless they have it."""
    now = clock.now()
    have = set(
        UnsubscribeToken.objects.filter(user_id__in=user_ids).values_list("user_id", flat=True)
    )
    new = []
    for user_id in user_ids:
        if user_id in have:
            continue
        seed = secrets.token_hex(32)
        new.append(
            UnsubscribeToken(
                user_id=user_id,
                seed=seed,
                token_sha256=token_sha256(unsubscribe_token(seed=seed)),
                created_at=now,
            )
        )
    UnsubscribeToken.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _chunks(ids: list[int], size: int) -> list[list[int]]:
    return [ids[start : start + size] for start in range(0, len(ids), size)]


@transaction.atomic
def campaign_start(*, campaign_id: int) -> int | None:
    """Starts one due campaign: it goes to `sending`, its audience is taken now into queued
    messages, and one batch job per MAILING_BATCH_SIZE messages is enqueued, all in this
    transaction. Returns how many messages were queued (None: not due, or started already)."""
    now = clock.now()
    campaign = (
        Campaign.objects.select_for_update()
        .filter(pk=campaign_id, status=CampaignStatus.SCHEDULED, scheduled_for__lte=now)
        .first()
    )
    if campaign is None:
        return None
    recipients = newsletter_recipients()
    user_ids = sorted(recipients)
    for chunk in _chunks(user_ids, 1000):
        unsubscribe_tokens_ensure(user_ids=chunk)
    CampaignMessage.objects.bulk_create(
        (
            CampaignMessage(
                campaign=campaign,
                recipient_id=user_id,
                language=recipients[user_id].language,
                subject=campaign.subject_in(recipients[user_id].language),
                status=MessageStatus.QUEUED,
                queued_at=now,
            )
            for user_id in user_ids
        ),
        batch_size=1000,
    )
    campaign.status = CampaignStatus.SENDING if user_ids else CampaignStatus.SENT
    campaign.started_at = now
    campaign.finished_at = None if user_ids else now
    campaign.updated_at = now
    campaign.save(update_fields=["status", "started_at", "finished_at", "updated_at"])
    for _batch in range(math.ceil(len(user_ids) / settings.MAILING_BATCH_SIZE)):
        tasks.send_campaign_batch.enqueue(campaign_id=campaign.pk)
    return len(user_ids)


def campaigns_start_due() -> dict[str, int]:
    """The every-minute job: starts each campaign whose time has come (one transaction each),
    sends batches again for messages a killed batch left claimed, and marks campaigns whose
    queue is empty as sent. Returns counts."""
    from backgroundmusic.mailing import sending

    now = clock.now()
    started = queued = 0
    due = Campaign.objects.filter(
        status=CampaignStatus.SCHEDULED, scheduled_for__lte=now
    ).values_list("pk", flat=True)
    for campaign_id in list(due):
        count = campaign_start(campaign_id=campaign_id)
        if count is not None:
            started += 1
            queued += count
    resumed = sending.batches_resume()
    return {"started": started, "queued": queued, "resumed": resumed}


def messages_cancel_for(*, subject_id: int) -> int:
    """The person's newsletter consent stopped (withdrawn by any path, suspended by a new
    edition, processing restricted): their queued messages are cancelled, in the caller's
    transaction. Returns how many."""
    return CampaignMessage.objects.filter(
        recipient_id=subject_id, status=MessageStatus.QUEUED
    ).update(status=MessageStatus.CANCELLED, claimed_at=None)


def unsubscribe_owner(*, token: str) -> AbstractBaseUser | None:
    """The person an unsubscribe token belongs to (None for an unknown or malformed one)."""
    if not TOKEN_PATTERN.fullmatch(token):
        return None
    found = (
        UnsubscribeToken.objects.select_related("user")
        .filter(token_sha256=token_sha256(token))
        .first()
    )
    return found.user if found is not None else None


@transaction.atomic
def unsubscribe_one_click(*, token: str, evidence: Mapping[str, str] | None = None) -> bool:
    """RFC 8058 one-click unsubscribe: withdraws the token owner's newsletter consent (method
    one_click, with the request's `evidence`), which cancels their queued messages. False for an
    unknown token (nothing changes)."""
    owner = unsubscribe_owner(token=token)
    if owner is None:
        return False
    consent_withdraw(
        subject=owner,
        purpose=ConsentPurpose.NEWSLETTER,
        method=ConsentMethod.ONE_CLICK,
        evidence=evidence,
    )
    return True


@transaction.atomic
def suppression_record(*, address: str, reason: str) -> Suppression:
    """A hard bounce or a complaint: the address gets no more newsletters. Only its keyed digest
    is kept. Recording it again keeps the first row."""
    checked = SuppressionReason(reason)
    if checked not in (SuppressionReason.HARD_BOUNCE, SuppressionReason.COMPLAINT):
        raise ValueError("suppression_record takes hard bounces and complaints only")
    suppression, _created = Suppression.objects.get_or_create(
        address_digest=address_digest(address=address),
        defaults={"reason": checked, "at": clock.now()},
    )
    return suppression
