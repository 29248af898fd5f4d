"""Reads of a person's library. A playlist is read only by its owner: for anyone else it does not
exist (one definition: `playlist_of`).

What a listed track can do is asked of media.streaming, the one definition of "playable": the
full track for whoever may hear it (a licensee), else its preview, else nothing, and the row
says so. A track the catalogue no longer shows (unpublished, or its audio gone) stays in the
library, marked.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count, QuerySet

from backgroundmusic.accounts.models import User
from backgroundmusic.catalog.models import Track
from backgroundmusic.catalog.selectors import catalogue_tracks
from backgroundmusic.library.models import Favourite, Playlist, PlaylistEntry
from backgroundmusic.media.streaming import playable_urls


@dataclass(frozen=True)
class LibraryTrack:
    """A track as a list of one's library shows it. play_url: the signed URL the player plays
    (the full track when `plays_full`, else the preview), None when the person may play none."""

    track: Track
    play_url: str | None
    plays_full: bool
    in_catalogue: bool
    entry_id: int | None = None


def library_track_get(*, person: User, slug: str) -> Track | None:
    """A track `person` may add to their library: one the catalogue shows them."""
    return catalogue_tracks(user=person).filter(slug=slug).first()


def playlist_of(*, person: User, playlist_id: int, for_update: bool = False) -> Playlist | None:
    """The playlist if `person` owns it; None for anyone else (staff included) or no such one."""
    if person is None or not person.is_authenticated:
        return None
    playlists = Playlist.objects.filter(owner=person, pk=playlist_id)
    if for_update:
        playlists = playlists.select_for_update()
    return playlists.first()


def playlists_of(*, person: User) -> QuerySet[Playlist]:
    """The person's playlists, most recently changed first, each with `track_count`."""
    return (
        Playlist.objects.filter(owner=person)
        .annotate(track_count=Count("entries"))
        .order_by("-updated_at", "-pk")
    )


def is_favourite(*, person: User, track: Track) -> bool:
    if not person.is_authenticated:
        return False
    return Favourite.objects.filter(person=person, track=track).exists()


def favourite_slugs(*, person: User) -> list[str]:
    """Slugs of the person's favourites (at most services.MAX_FAVOURITES), for the catalogue's
    rows to show which are favourites."""
    if not person.is_authenticated:
        return []
    return list(
        Favourite.objects.filter(person=person)
        .order_by("track__slug")
        .values_list("track__slug", flat=True)
    )


def _library_tracks(
    person: User, tracks: Sequence[Track], entry_ids: Sequence[int | None]
) -> list[LibraryTrack]:
    full = playable_urls(user=person, tracks=tracks, kind="opus")
    preview = playable_urls(user=person, tracks=tracks, kind="preview")
    shown = set(
        catalogue_tracks(user=person)
        .filter(pk__in=[t.pk for t in tracks])
        .values_list("pk", flat=True)
    )
    return [
        LibraryTrack(
            track=track,
            play_url=full[track.pk] or preview[track.pk],
            plays_full=full[track.pk] is not None,
            in_catalogue=track.pk in shown,
            entry_id=entry_id,
        )
        for track, entry_id in zip(tracks, entry_ids, strict=True)
    ]


_TRACK_FIELDS = ("track__title", "track__slug", "track__composer", "track__duration_seconds")


def favourites_of(*, person: User) -> list[LibraryTrack]:
    """The person's favourites, the most recently added first."""
    favourites = list(
        Favourite.objects.filter(person=person)
        .select_related("track")
        .only("track_id", *_TRACK_FIELDS)
        .order_by("-added_at", "-pk")
    )
    tracks = [favourite.track for favourite in favourites]
    return _library_tracks(person, tracks, [None] * len(tracks))


def playlist_entries(*, person: User, playlist: Playlist) -> list[LibraryTrack]:
    """The tracks of a playlist `person` owns (asked of `playlist_of`), in order."""
    if playlist.owner_id != person.pk:
        return []
    entries = list(
        PlaylistEntry.objects.filter(playlist=playlist)
        .select_related("track")
        .only("playlist_id", "track_id", "position", *_TRACK_FIELDS)
        .order_by("position")
    )
    return _library_tracks(person, [e.track for e in entries], [e.pk for e in entries])
