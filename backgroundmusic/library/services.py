"""Every write to a person's library. Each service acts for `person`, the signed-in account whose
library it is: a playlist is changed only by its owner, and someone else's playlist is "not
found" (its existence is not theirs to learn). Bad input raises LibraryError and changes nothing.
"""

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from backgroundmusic.accounts.models import User
from backgroundmusic.catalog.models import Track
from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.core.text import TextKind, check_text
from backgroundmusic.library.models import (
    PLAYLIST_DESCRIPTION_MAX_LENGTH,
    PLAYLIST_NAME_MAX_LENGTH,
    Favourite,
    Playlist,
    PlaylistEntry,
)
from backgroundmusic.library.selectors import library_track_get, playlist_of

# Bounds that keep a page of one's library, and the access package, a readable size.
MAX_FAVOURITES = 1000
MAX_PLAYLISTS = 200
MAX_PLAYLIST_ENTRIES = 500


class LibraryError(DomainError):
    code = "library_error"


def _person(person: User) -> User:
    if person is None or not person.is_authenticated:
        raise LibraryError(_("Sign in to keep favourites and playlists."), code="sign_in")
    return person


def _track(person: User, slug: str) -> Track:
    track = library_track_get(person=person, slug=slug)
    if track is None:
        raise LibraryError(_("There is no such track in the catalogue."), code="no_such_track")
    return track


def _playlist(person: User, playlist_id: int) -> Playlist:
    playlist = playlist_of(person=person, playlist_id=playlist_id, for_update=True)
    if playlist is None:
        raise LibraryError(_("You have no such playlist."), code="no_such_playlist")
    return playlist


def _name(name: str) -> str:
    name = check_text(name or "").strip()
    if not name:
        raise LibraryError(_("Give the playlist a name."), code="name_required")
    if len(name) > PLAYLIST_NAME_MAX_LENGTH:
        raise LibraryError(
            _("A playlist's name has at most %(limit)d characters.")
            % {"limit": PLAYLIST_NAME_MAX_LENGTH},
            code="name_too_long",
        )
    return name


def _description(description: str) -> str:
    description = check_text(description or "", TextKind.TEXT).strip()
    if len(description) > PLAYLIST_DESCRIPTION_MAX_LENGTH:
        raise LibraryError(
            _("A playlist's description has at most %(limit)d characters.")
            % {"limit": PLAYLIST_DESCRIPTION_MAX_LENGTH},
            code="description_too_long",
        )
    return description


@transaction.atomic
def favourite_add(*, person: User, slug: str) -> Favourite:
    """Marks the track as a favourite of `person`; adding it again changes nothing."""
    person = _person(person)
    track = _track(person, slug)
    existing = Favourite.objects.filter(person=person, track=track).first()
    if existing is not None:
        return existing
    # The lock on the account row makes two additions at once count each other.
    User.objects.select_for_update().filter(pk=person.pk).first()
    if Favourite.objects.filter(person=person).count() >= MAX_FAVOURITES:
        raise LibraryError(
            _("You can keep at most %(limit)d favourites: remove one first.")
            % {"limit": MAX_FAVOURITES},
            code="too_many_favourites",
        )
    return Favourite.objects.create(person=person, track=track, added_at=clock.now())


@transaction.atomic
def favourite_remove(*, person: User, slug: str) -> bool:
    """Removes the track from the favourites of `person`; False when it was not one. A track
    the catalogue no longer shows them can still be removed."""
    person = _person(person)
    deleted, _rows = Favourite.objects.filter(person=person, track__slug=slug).delete()
    return bool(deleted)


@transaction.atomic
def favourite_toggle(*, person: User, slug: str) -> bool:
    """Adds the track to the favourites, or removes it when it is one; whether it is one now."""
    if favourite_remove(person=person, slug=slug):
        return False
    favourite_add(person=person, slug=slug)
    return True


@transaction.atomic
def playlist_create(*, person: User, name: str, description: str = "") -> Playlist:
    person = _person(person)
    name = _name(name)
    description = _description(description)
    User.objects.select_for_update().filter(pk=person.pk).first()
    if Playlist.objects.filter(owner=person).count() >= MAX_PLAYLISTS:
        raise LibraryError(
            _("You can have at most %(limit)d playlists: delete one first.")
            % {"limit": MAX_PLAYLISTS},
            code="too_many_playlists",
        )
    now = clock.now()
    return Playlist.objects.create(
        owner=person, name=name, description=description, created_at=now, updated_at=now
    )


@transaction.atomic
def playlist_rename(
    *, person: User, playlist_id: int, name: str, description: str | None = None
) -> Playlist:
    """Renames the playlist; its description too when one is given ("" empties it)."""
    person = _person(person)
    name = _name(name)
    new_description = None if description is None else _description(description)
    playlist = _playlist(person, playlist_id)
    playlist.name = name
    if new_description is not None:
        playlist.description = new_description
    playlist.updated_at = clock.now()
    playlist.save(update_fields=["name", "description", "updated_at"])
    return playlist


@transaction.atomic
def playlist_delete(*, person: User, playlist_id: int) -> None:
    person = _person(person)
    _playlist(person, playlist_id).delete()


def _touch(playlist: Playlist) -> None:
    playlist.updated_at = clock.now()
    playlist.save(update_fields=["updated_at"])


@transaction.atomic
def playlist_entry_add(*, person: User, playlist_id: int, slug: str) -> PlaylistEntry:
    """Adds the track at the end of the playlist (a track may be in it more than once)."""
    person = _person(person)
    playlist = _playlist(person, playlist_id)
    track = _track(person, slug)
    count = PlaylistEntry.objects.filter(playlist=playlist).count()
    if count >= MAX_PLAYLIST_ENTRIES:
        raise LibraryError(
            _("A playlist holds at most %(limit)d tracks.") % {"limit": MAX_PLAYLIST_ENTRIES},
            code="playlist_full",
        )
    entry = PlaylistEntry.objects.create(playlist=playlist, track=track, position=count)
    _touch(playlist)
    return entry


def _entry(playlist: Playlist, entry_id: int) -> PlaylistEntry:
    entry = PlaylistEntry.objects.filter(playlist=playlist, pk=entry_id).first()
    if entry is None:
        raise LibraryError(_("That track is not in this playlist."), code="no_such_entry")
    return entry


@transaction.atomic
def playlist_entry_remove(*, person: User, playlist_id: int, entry_id: int) -> None:
    """Takes one entry out; the entries after it move up one place."""
    person = _person(person)
    playlist = _playlist(person, playlist_id)
    entry = _entry(playlist, entry_id)
    entry.delete()
    remaining = PlaylistEntry.objects.filter(playlist=playlist).order_by("position")
    _positions_set(playlist, list(remaining.values_list("pk", flat=True)))
    _touch(playlist)


@transaction.atomic
def playlist_entry_move(*, person: User, playlist_id: int, entry_id: int, position: int) -> None:
    """Moves one entry to `position` (0 is the first place), the others keeping their order."""
    person = _person(person)
    playlist = _playlist(person, playlist_id)
    entry = _entry(playlist, entry_id)
    ids = list(
        PlaylistEntry.objects.filter(playlist=playlist)
        .order_by("position")
        .values_list("pk", flat=True)
    )
    if not 0 <= position < len(ids):
        raise LibraryError(
            _("Choose a place from 1 to %(count)d.") % {"count": len(ids)}, code="bad_position"
        )
    ids.remove(entry.pk)
    ids.insert(position, entry.pk)
    _positions_set(playlist, ids)
    _touch(playlist)


@transaction.atomic
def playlist_reorder(*, person: User, playlist_id: int, entry_ids: list[int]) -> None:
    """Puts the entries in the order given, which must name each entry exactly once."""
    person = _person(person)
    playlist = _playlist(person, playlist_id)
    current = set(PlaylistEntry.objects.filter(playlist=playlist).values_list("pk", flat=True))
    if len(entry_ids) != len(current) or set(entry_ids) != current:
        raise LibraryError(
            _("The new order must list every track of the playlist exactly once."),
            code="bad_order",
        )
    _positions_set(playlist, entry_ids)
    _touch(playlist)


def _positions_set(playlist: Playlist, ordered_ids: list[int]) -> None:
    """Writes positions 0 … n-1 in the given order. Every entry first moves past the highest
    position in use, so no two entries share a place at any moment (the unique constraint is
    checked row by row on PostgreSQL)."""
    offset = MAX_PLAYLIST_ENTRIES + len(ordered_ids)
    PlaylistEntry.objects.filter(playlist=playlist).update(position=F("position") + offset)
    entries = [PlaylistEntry(pk=pk, position=index) for index, pk in enumerate(ordered_ids)]
    PlaylistEntry.objects.bulk_update(entries, ["position"])
