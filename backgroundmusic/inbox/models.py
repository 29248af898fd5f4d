"""What the inbox keeps of each letter to the service's addresses (inbox/services.py)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from backgroundmusic.privacy.models import DataSubjectRequest


class Mailbox(models.TextChoices):
    PRIVACY = "privacy", _("Privacy requests")
    UNSUBSCRIBE = "unsubscribe", _("Unsubscribe")
    BOUNCE = "bounce", _("Delivery reports")
    OTHER = "other", _("None of ours")


class Outcome(models.TextChoices):
    UNSUBSCRIBED = "unsubscribed", _("Newsletter consent withdrawn")
    UNKNOWN_SENDER = "unknown_sender", _("Sender is not a verified account address")
    REQUEST_LOGGED = "request_logged", _("Request logged for staff")
    CONFIRMATION_SENT = "confirmation_sent", _("Request logged, confirmation link sent")
    CONFIRMED = "confirmed", _("Request confirmed by the link")
    IGNORED_AUTO_REPLY = "ignored_auto_reply", _("Automatic reply, ignored")
    IGNORED_NOT_OURS = "ignored_not_ours", _("Not addressed to one of our addresses, ignored")
    REJECTED_MALFORMED = "rejected_malformed", _("Rejected: malformed or unsafe")
    BOUNCE = "bounce", _("Delivery report")


class InboundMessage(models.Model):
    """One letter received, whichever reader brought it: when, to which of our addresses, a keyed
    digest of the sender, what was done. Recorded once: a reader that crashed before marking the
    letter read brings it again, and the same Message-ID with the same bytes finds this row."""

    received_at = models.DateTimeField(_("received at"))
    mailbox = models.CharField(
        pgettext_lazy("letter recipient", "to"), max_length=16, choices=Mailbox.choices
    )
    # privacy.kernel.pseudonyms.address_digest of the From address; None when there was none to
    # read, after erasure and past the record's period (the generic retention step sets NULL).
    sender_digest = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    message_id_digest = models.CharField(max_length=64)
    content_digest = models.CharField(max_length=64)
    outcome = models.CharField(_("outcome"), max_length=32, choices=Outcome.choices)
    # Why a letter was rejected (a code such as "too_large" or "bidi_control"); "" otherwise.
    rejection = models.CharField(max_length=32, blank=True)
    # The account whose verified address sent the letter, when one did.
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    request = models.ForeignKey(
        DataSubjectRequest,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # When the confirmation link went to the account's verified address (tasks.py).
    confirmation_mailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("letter received")
        verbose_name_plural = _("letters received")
        constraints = [
            models.UniqueConstraint(
                fields=["message_id_digest", "content_digest"], name="inbound_message_once"
            )
        ]

    def __str__(self) -> str:
        return f"inbound message #{self.pk}"


class InboundRawMessage(models.Model):
    """The letter as it arrived, sealed under the master key (it belongs to no account's data
    key: most senders have none), for staff to read while they answer; deleted by the retention
    run once the data map's period has passed."""

    message = models.OneToOneField(InboundMessage, on_delete=models.CASCADE, related_name="raw")
    received_at = models.DateTimeField()
    sealed = models.TextField()
    truncated = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"raw message #{self.message_id}"
