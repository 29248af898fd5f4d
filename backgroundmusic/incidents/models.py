"""The breach register: incidents, the notices each one needs (to the Russian authority, to the
GDPR supervisory authority, to the people) and the letter each affected person was sent
(docs/architecture.md, "Incidents")."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Incident(models.Model):
    """A personal-data breach as staff recorded it. Its clocks start at `detected_at`; the people
    affected are computed from the data map (incidents/people.py) and kept as account ids."""

    summary = models.CharField(_("summary"), max_length=200)
    description = models.TextField(_("what happened"))
    consequences = models.TextField(_("likely consequences"))
    measures = models.TextField(_("measures taken"))
    detected_at = models.DateTimeField(_("detected at"))
    # The window in which the data was exposed, when known: rows of a model whose clock is one of
    # its timestamps count only when that timestamp falls in it.
    occurred_from = models.DateTimeField(_("exposed from"), null=True, blank=True)
    occurred_until = models.DateTimeField(_("exposed until"), null=True, blank=True)
    # Data-map labels ("app.Model") and category keys ("user.contact.email") staff named.
    affected_models = models.JSONField(_("affected data"), default=list)
    affected_categories = models.JSONField(_("affected categories"), default=list)
    # GDPR art. 33 applies only when residents of the EU may be affected.
    eu_residents = models.BooleanField(_("EU residents may be affected"), default=False)
    estimated_people = models.PositiveIntegerField(_("estimated people"), null=True, blank=True)
    # What the data map found: every category the affected data holds, the account ids of the
    # people it is about, and the affected models whose rows lead to no account.
    computed_categories = models.JSONField(default=list)
    affected_subject_ids = models.JSONField(default=list)
    affected_count = models.PositiveIntegerField(_("people affected"), default=0)
    unlinked_models = models.JSONField(default=list)
    computed_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(_("opened at"))

    class Meta:
        ordering = ["-detected_at", "-pk"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        permissions = [("manage_incident", "Can open incidents, draft and record their notices")]
        constraints = [
            models.CheckConstraint(
                condition=Q(occurred_from__isnull=True)
                | Q(occurred_until__isnull=True)
                | Q(occurred_from__lte=models.F("occurred_until")),
                name="incident_window_ordered",
            ),
            models.CheckConstraint(
                condition=Q(detected_at__lte=models.F("opened_at")),
                name="incident_detected_before_opened",
            ),
        ]

    def __str__(self) -> str:
        return f"incident #{self.pk}"


class NoticeKind(models.TextChoices):
    # 152-FZ art. 21 part 3.1: within 24 hours, then the investigation's results within 72.
    AUTHORITY_RU = "authority_ru", pgettext_lazy("incident notice", "Roskomnadzor: notification")
    RESULTS_RU = "results_ru", pgettext_lazy("incident notice", "Roskomnadzor: investigation")
    # GDPR art. 33: within 72 hours, when EU residents may be affected.
    AUTHORITY_GDPR = (
        "authority_gdpr",
        pgettext_lazy("incident notice", "GDPR supervisory authority"),
    )
    # GDPR art. 34, and what 152-FZ's duty to stop the harm asks: the people themselves.
    PEOPLE = "people", pgettext_lazy("incident notice", "Letter to the people affected")


class Notice(models.Model):
    """One notice of an incident, drafted in both languages from templates and the incident's
    facts, edited by staff, then recorded as sent (to an authority: when, and its reference; to
    the people: when the letters were queued)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(_("notice"), max_length=16, choices=NoticeKind.choices)
    subject_en = models.CharField(_("subject in English"), max_length=200)
    subject_ru = models.CharField(_("subject in Russian"), max_length=200)
    text_en = models.TextField(_("text in English"))
    text_ru = models.TextField(_("text in Russian"))
    drafted_at = models.DateTimeField()
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    reference = models.CharField(_("reference"), max_length=200, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("incident notice")
        verbose_name_plural = _("incident notices")
        constraints = [
            models.UniqueConstraint(fields=["incident", "kind"], name="incident_notice_one_each"),
            models.CheckConstraint(
                condition=Q(kind__in=NoticeKind.values), name="incident_notice_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(sent_at__isnull=False) | Q(reference=""),
                name="incident_notice_reference_only_when_sent",
            ),
        ]

    def __str__(self) -> str:
        return f"incident notice #{self.pk}"

    def subject_in(self, language: str) -> str:
        return self.subject_ru if language == "ru" else self.subject_en

    def text_in(self, language: str) -> str:
        return self.text_ru if language == "ru" else self.text_en


class LetterStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("incident letter status", "Queued")
    SENT = "sent", pgettext_lazy("incident letter status", "Sent")
    NO_ADDRESS = "no_address", pgettext_lazy("incident letter status", "No verified address")
    FAILED = "failed", pgettext_lazy("incident letter status", "Refused by the mail server")


class IncidentLetter(models.Model):
    """The letter one affected person was sent about an incident, in their language. Erasure
    empties the recipient; the pseudonym written when the letter was queued stays, so the register
    still proves the person was told."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="letters")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recipient"),
    )
    recipient_pseudonym = models.CharField(max_length=64)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    status = models.CharField(
        _("status"), max_length=16, choices=LetterStatus.choices, default=LetterStatus.QUEUED
    )
    queued_at = models.DateTimeField(_("queued at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # The class of the failure and the server's reply code, never an address.
    error = models.CharField(_("error"), max_length=200, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("incident letter")
        verbose_name_plural = _("incident letters")
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "recipient_pseudonym"], name="incident_letter_one_per_person"
            ),
            models.CheckConstraint(
                condition=Q(status__in=LetterStatus.values), name="incident_letter_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(sent_at__isnull=True) | Q(status=LetterStatus.SENT),
                name="incident_letter_sent_at_only_when_sent",
            ),
        ]
        indexes = [models.Index(fields=["incident", "status"], name="incident_letter_queue")]

    def __str__(self) -> str:
        return f"incident letter #{self.pk}"
