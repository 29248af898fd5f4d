"""First-party analytics (policy clauses 1.2, 1.3, 5.2, 6.1): page views and engaged time.

Event, VisitorSalt and the daily aggregates live in the analytics database alias (routers.py);
none has a foreign key to a user. AnalyticsIdentity, in the main database, is the only link
between an analytics pseudonym (the bm_aid cookie) and an account; the privacy center's export
and erasure go through it.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class EventKind(models.TextChoices):
    VIEW = "view", _("page view")
    ENGAGE = "engage", _("engaged time")


class ScreenClass(models.TextChoices):
    """Viewport width buckets; the exact size would help fingerprint a device."""

    SMALL = "s", "under 640 px"
    MEDIUM = "m", "640–1023 px"
    LARGE = "l", "1024–1439 px"
    XLARGE = "xl", "1440 px and wider"
    UNKNOWN = "", "unknown"


class Event(models.Model):
    """One page view, or engaged time added to a page view (same view_id)."""

    kind = models.CharField(_("what"), max_length=8, choices=EventKind.choices)
    occurred_at = models.DateTimeField(_("when"))
    # Random per page view, made by the script; joins engagement to its view.
    view_id = models.UUIDField()
    # Counts distinct visitors: the day's HMAC key (cookieless) or the pseudonym (with consent).
    visitor_key = models.CharField(max_length=64)
    # The bm_aid pseudonym when the visitor consented to identified analytics, else "".
    pseudonym = models.CharField(_("analytics identifier"), max_length=40, blank=True, default="")
    # Without query parameters except allow-listed ones, e-mails and tokens masked.
    path = models.CharField(_("page"), max_length=512)
    referrer_host = models.CharField(_("came from"), max_length=255, blank=True, default="")
    browser = models.CharField(_("browser"), max_length=64, blank=True, default="")
    browser_major = models.CharField(_("browser version"), max_length=8, blank=True, default="")
    device = models.CharField(_("device"), max_length=16, blank=True, default="")
    screen = models.CharField(
        _("screen size"), max_length=2, choices=ScreenClass.choices, blank=True, default=""
    )
    country = models.CharField(_("country"), max_length=2, blank=True, default="")
    language = models.CharField(_("language"), max_length=16, blank=True, default="")
    engaged_ms = models.PositiveIntegerField(_("engaged time, ms"), default=0)

    class Meta:
        verbose_name = _("page visit")
        verbose_name_plural = _("pages visited (first-party statistics)")
        indexes = [
            models.Index(fields=["occurred_at"], name="analytics_event_time"),
            models.Index(fields=["pseudonym", "occurred_at"], name="analytics_event_pseudonym"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.path}"


class VisitorSalt(models.Model):
    """The day's random salt of the cookieless visitor key; deleted after 48 hours, so nobody,
    us included, can recompute an old key from an IP address and a browser."""

    day = models.DateField(unique=True)
    secret = models.BinaryField(max_length=32)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"salt {self.day}"


class DailyPageStat(models.Model):
    """Per day and page: what is kept after raw events pass their 25 months."""

    day = models.DateField()
    path = models.CharField(max_length=512)
    page_views = models.PositiveIntegerField()
    visitors = models.PositiveIntegerField()
    engaged_ms = models.PositiveBigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "path"], name="analytics_daily_page_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.path}"


class Dimension(models.TextChoices):
    REFERRER = "referrer", "referrer"
    BROWSER = "browser", "browser"
    DEVICE = "device", "device"
    SCREEN = "screen", "screen size"
    COUNTRY = "country", "country"
    LANGUAGE = "language", "language"


class DailyDimensionStat(models.Model):
    """Per day, dimension (referrer, browser, ...) and value: views and visitors."""

    day = models.DateField()
    dimension = models.CharField(max_length=16, choices=Dimension.choices)
    value = models.CharField(max_length=255)
    page_views = models.PositiveIntegerField()
    visitors = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "dimension", "value"], name="analytics_daily_dimension_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.dimension}={self.value}"


class AnalyticsIdentity(models.Model):
    """Main database: which account a pseudonym belongs to (one per browser the person used
    while signed in with consent). Erasure deletes these rows and the events they name."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="analytics_identities"
    )
    pseudonym = models.CharField(max_length=40, unique=True)
    linked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"analytics identity #{self.pk}"


class ResearchExport(models.Model):
    """A depersonalized dataset released to a named partner (clause 6.1), kept as evidence."""

    recipient = models.ForeignKey(
        "privacy.Recipient", on_delete=models.PROTECT, related_name="research_exports"
    )
    period_start = models.DateField()
    period_end = models.DateField()
    created_at = models.DateTimeField()
    created_by_id = models.PositiveBigIntegerField()
    subjects = models.PositiveIntegerField()
    cells_released = models.PositiveIntegerField()
    cells_suppressed = models.PositiveIntegerField()
    # The released CSV itself: aggregates only, every cell covering at least 20 subjects.
    dataset_csv = models.TextField()
    sha256 = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"research export #{self.pk}"
