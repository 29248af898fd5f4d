"""Newsletter campaigns, each person's copy of one, the unsubscribe tokens and the suppression
list (docs/architecture.md, "Mailing")."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("campaign status", "Draft")
    SCHEDULED = "scheduled", pgettext_lazy("campaign status", "Scheduled")
    SENDING = "sending", pgettext_lazy("campaign status", "Sending")
    SENT = "sent", pgettext_lazy("campaign status", "Sent")
    CANCELLED = "cancelled", pgettext_lazy("campaign status", "Cancelled")


class Campaign(models.Model):
    """A newsletter written by a newsletter editor in both languages (Markdown), sent to the
    audience computed when it starts (mailing/selectors.py)."""

    subject_en = models.CharField(_("subject (English)"), max_length=200)
    subject_ru = models.CharField(_("subject (Russian)"), max_length=200)
    body_en = models.TextField(_("text (English, Markdown)"))
    body_ru = models.TextField(_("text (Russian, Markdown)"))
    status = models.CharField(
        _("status"), max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    scheduled_for = models.DateTimeField(_("send at"), null=True, blank=True)
    # A plain id like the audit trail's: the campaign outlives the staff member's account.
    created_by_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    # When the audience was taken and when the last message left (or the campaign was cancelled).
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        permissions = [("manage_campaign", "Can write, schedule and cancel newsletter campaigns")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=CampaignStatus.values), name="campaign_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status=CampaignStatus.DRAFT)
                | Q(status=CampaignStatus.CANCELLED)
                | Q(scheduled_for__isnull=False),
                name="campaign_scheduled_has_time",
            ),
            models.CheckConstraint(
                condition=Q(started_at__isnull=True)
                | Q(
                    status__in=[
                        CampaignStatus.SENDING,
                        CampaignStatus.SENT,
                        CampaignStatus.CANCELLED,
                    ]
                ),
                name="campaign_started_only_when_sending",
            ),
        ]

    def __str__(self) -> str:
        return f"campaign #{self.pk}"

    def subject_in(self, language: str) -> str:
        return self.subject_ru if language == "ru" else self.subject_en

    def body_in(self, language: str) -> str:
        return self.body_ru if language == "ru" else self.body_en


class MessageStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("newsletter message status", "Queued")
    SENT = "sent", pgettext_lazy("newsletter message status", "Sent")
    FAILED = "failed", pgettext_lazy("newsletter message status", "Failed")
    CANCELLED = "cancelled", pgettext_lazy("newsletter message status", "Cancelled")


class CampaignMessage(models.Model):
    """One person's copy of a campaign: queued when the campaign starts, then sent, failed or
    cancelled (the consent stopped). The recipient is emptied on erasure."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="messages")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recipient"),
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    # The subject in the person's language, as it was sent: what their data export shows.
    subject = models.CharField(_("subject"), max_length=200)
    status = models.CharField(
        _("status"), max_length=16, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # When a batch took the row to send it; a queued row claimed longer ago than
    # sending.claim_timeout() belongs to a batch that was killed, and is taken again.
    claimed_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(_("queued at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # The class of the failure and the server's reply code, never an address.
    error = models.CharField(_("error"), max_length=200, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("newsletter message")
        verbose_name_plural = _("newsletter messages")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "recipient"], name="campaign_message_one_per_person"
            ),
            models.CheckConstraint(
                condition=Q(status__in=MessageStatus.values), name="campaign_message_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(sent_at__isnull=True) | Q(status=MessageStatus.SENT),
                name="campaign_message_sent_at_only_when_sent",
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "status"], name="campaign_message_queue"),
            models.Index(fields=["recipient", "status"], name="campaign_message_person"),
            models.Index(fields=["queued_at"], name="campaign_message_queued_at"),
        ]

    def __str__(self) -> str:
        return f"campaign message #{self.pk}"


class UnsubscribeToken(models.Model):
    """The person's one unsubscribe token. The token is HMAC(kernel key, seed) (privacy/kernel/
    pseudonyms.py): it is rebuilt from the seed for each message, and found by its SHA-256, so
    neither the table alone nor SECRET_KEY gives or changes it. Deleted on erasure."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="unsubscribe_token"
    )
    seed = models.CharField(max_length=64)
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"unsubscribe token #{self.pk}"


class SuppressionReason(models.TextChoices):
    HARD_BOUNCE = "hard_bounce", _("Hard bounce")
    COMPLAINT = "complaint", _("Complaint")
    MANUAL = "manual", _("Added by staff")


class Suppression(models.Model):
    """An address no newsletter goes to, kept only as its keyed digest
    (privacy/kernel/pseudonyms.py address_digest): it survives erasure and names no one."""

    address_digest = models.CharField(max_length=64, unique=True)
    reason = models.CharField(max_length=16, choices=SuppressionReason.choices)
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(reason__in=SuppressionReason.values), name="suppression_reason_valid"
            )
        ]

    def __str__(self) -> str:
        return f"suppression #{self.pk}"
