"""A person's own music library: the tracks they mark as favourites, and their playlists.

Personal data (library/privacy.py): what someone keeps says what they like. Rows belong to one
account and go with it (the data map's erasure step deletes them).
"""

from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils.translation import gettext_lazy as _

from backgroundmusic.catalog.models import Track

PLAYLIST_NAME_MAX_LENGTH = 100
PLAYLIST_DESCRIPTION_MAX_LENGTH = 1000


class Favourite(models.Model):
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="favourites",
        verbose_name=_("account"),
    )
    track = models.ForeignKey(
        Track, on_delete=models.CASCADE, related_name="+", verbose_name=_("track")
    )
    added_at = models.DateTimeField(_("added at"))

    class Meta:
        verbose_name = _("favourite track")
        verbose_name_plural = _("favourite tracks")
        constraints = [
            models.UniqueConstraint(fields=["person", "track"], name="favourite_once_per_track"),
        ]
        indexes = [models.Index(fields=["person", "-added_at"], name="favourite_newest_first")]

    def __str__(self) -> str:
        return f"favourite #{self.pk}"


class Playlist(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="playlists",
        verbose_name=_("account"),
    )
    name = models.CharField(_("name"), max_length=PLAYLIST_NAME_MAX_LENGTH)
    description = models.TextField(
        _("description"), blank=True, max_length=PLAYLIST_DESCRIPTION_MAX_LENGTH
    )
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("playlist")
        verbose_name_plural = _("playlists")
        constraints = [
            models.CheckConstraint(condition=~models.Q(name=""), name="playlist_name_not_empty"),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("description"), PLAYLIST_DESCRIPTION_MAX_LENGTH),
                name="playlist_description_within_limit",
            ),
        ]
        indexes = [models.Index(fields=["owner", "-updated_at"], name="playlist_recent_first")]

    def __str__(self) -> str:
        return self.name


class PlaylistEntry(models.Model):
    """One place in a playlist. Positions run 0, 1, 2 … without gaps (the services keep them)."""

    playlist = models.ForeignKey(
        Playlist, on_delete=models.CASCADE, related_name="entries", verbose_name=_("playlist")
    )
    track = models.ForeignKey(
        Track, on_delete=models.CASCADE, related_name="+", verbose_name=_("track")
    )
    position = models.PositiveIntegerField(_("position"))

    class Meta:
        verbose_name = _("playlist entry")
        verbose_name_plural = _("playlist entries")
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["playlist", "position"],
                name="playlist_entry_one_per_position",
            ),
        ]

    def __str__(self) -> str:
        return f"playlist entry #{self.pk}"
