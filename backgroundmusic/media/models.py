from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from backgroundmusic.catalog.models import Track


class Master(models.Model):
    """An uploaded master recording and what ingest measured of it (DESIGN.md §5).

    Stored under its content hash, never the uploader's file name. A master that fails ingest
    keeps its reason and no files; a track is playable only through a ready master.
    """

    class Status(models.TextChoices):
        UPLOADED = "uploaded", pgettext_lazy("ingest status", "Uploaded")
        PROCESSING = "processing", pgettext_lazy("ingest status", "Processing")
        READY = "ready", pgettext_lazy("ingest status", "Ready")
        FAILED = "failed", pgettext_lazy("ingest status", "Failed")

    track = models.OneToOneField(
        Track, on_delete=models.SET_NULL, null=True, blank=True, related_name="master"
    )
    sha256 = models.CharField(max_length=64, unique=True)
    storage_key = models.CharField(max_length=200, blank=True)
    # The uploaded file's name, shown to staff only (the storage key is the content hash).
    source_name = models.CharField(max_length=255, blank=True)
    # The track was made for this upload: it goes with the master if ingest rejects the file.
    owns_track = models.BooleanField(default=False)
    container = models.CharField(max_length=32, blank=True)
    codec = models.CharField(max_length=32, blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    sample_rate = models.PositiveIntegerField(null=True, blank=True)
    channels = models.PositiveSmallIntegerField(null=True, blank=True)
    bit_depth = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPLOADED)
    step = models.CharField(max_length=32, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)  # percent
    failure_reason = models.TextField(blank=True)
    uploaded_by_id = models.PositiveBigIntegerField(null=True, blank=True)
    uploaded_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    integrated_lufs = models.FloatField(null=True, blank=True)
    loudness_range_lu = models.FloatField(null=True, blank=True)
    true_peak_dbtp = models.FloatField(null=True, blank=True)
    cue_in_seconds = models.FloatField(null=True, blank=True)
    cue_out_seconds = models.FloatField(null=True, blank=True)
    bpm_estimate = models.FloatField(null=True, blank=True)
    waveform_peaks = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        indexes = [
            # Every catalogue read asks whether a track's master is ready (media.streaming): a
            # search's matches look it up here, index only, instead of reading every master
            # (bench/search.py: 24 ms to 5 ms for a two-word search over 100,000 tracks).
            models.Index(fields=["track"], condition=Q(status="ready"), name="master_ready_track"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="master_progress_percent"),
            models.CheckConstraint(
                condition=~Q(status="failed") | ~Q(failure_reason=""),
                name="master_failure_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"master {self.sha256[:12]}"


class Rendition(models.Model):
    """A file made from a master once, at ingest; never per request. The lossy ones are made at
    one loudness (decision 0007); FLAC holds the master's own samples."""

    class Kind(models.TextChoices):
        OPUS = "opus", _("Opus (web player)")
        AAC = "aac", _("AAC (compatibility)")
        MP3_320 = "mp3_320", _("MP3 320 kbit/s (licensed download)")
        FLAC = "flac", _("FLAC lossless (licensed download)")
        PREVIEW = "preview", pgettext_lazy("audio rendition", "Preview")

    master = models.ForeignKey(Master, on_delete=models.CASCADE, related_name="renditions")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Indexed: a secure link names its file by key (streaming.renewed_url).
    storage_key = models.CharField(max_length=200, db_index=True)
    mime_type = models.CharField(max_length=64)
    bitrate = models.PositiveIntegerField()
    size_bytes = models.PositiveBigIntegerField()
    duration_seconds = models.FloatField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["master", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["master", "kind"], name="rendition_kind_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.master}"


class Download(models.Model):
    """A rendition downloaded through a signed download URL (media/downloads.py).

    One row per URL however many requests fetch it (a download manager asks for many byte
    ranges): the URL's token is kept only as its SHA-256, unique. Licensing lists a person's
    downloads and ties them to the agreement in force by person, track and time. The person is
    emptied on erasure and three years after the download (media/privacy.py); the row then
    counts a download of the track and names nobody.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="downloads",
    )
    track = models.ForeignKey(
        Track, on_delete=models.SET_NULL, null=True, blank=True, related_name="downloads"
    )
    rendition = models.ForeignKey(
        Rendition, on_delete=models.SET_NULL, null=True, blank=True, related_name="downloads"
    )
    kind = models.CharField(max_length=16, choices=Rendition.Kind.choices)
    token_sha256 = models.CharField(max_length=64, unique=True)
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("download")
        verbose_name_plural = _("downloads of licensed files")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["user", "-at"], name="download_user_at")]
        constraints = [
            # The kinds served as files to keep (streaming.DOWNLOAD_KINDS).
            models.CheckConstraint(
                condition=Q(kind__in=[Rendition.Kind.MP3_320, Rendition.Kind.FLAC]),
                name="download_kind_is_a_download",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} download of track {self.track_id}"
