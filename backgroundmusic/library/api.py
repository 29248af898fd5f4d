"""/api/me/favourites and /api/me/playlists: the signed-in person's library, under the same
services and rules as the pages (session authentication, as /api/me/agreements). Someone else's
playlist is not found (404), whoever asks."""

from datetime import datetime
from typing import Any

from django.urls import reverse
from ninja import Field, Router, Schema
from ninja.responses import Status
from ninja.security import django_auth

from backgroundmusic.core.api_errors import ErrorOut, error_envelope
from backgroundmusic.core.http import AuthenticatedRequest
from backgroundmusic.library import selectors, services
from backgroundmusic.library.models import (
    PLAYLIST_DESCRIPTION_MAX_LENGTH,
    PLAYLIST_NAME_MAX_LENGTH,
    Playlist,
)
from backgroundmusic.library.selectors import LibraryTrack

router = Router(tags=["library"])

# Errors that name something the caller does not have: 404, the rest of LibraryError 400.
NOT_FOUND_CODES = frozenset({"no_such_track", "no_such_playlist", "no_such_entry"})


class LibraryTrackOut(Schema):
    slug: str
    title: str
    composer: str
    duration_seconds: float | None
    page_url: str | None = Field(description="The track's page; null when it left the catalogue.")
    in_catalogue: bool
    play_url: str | None = Field(
        description="A signed, expiring URL of what the caller may play (the full track or its "
        "preview); null when they may play neither now."
    )
    plays_full: bool


class EntryOut(LibraryTrackOut):
    entry_id: int
    position: int = Field(description="Place in the playlist, from 0.")


class PlaylistOut(Schema):
    id: int
    name: str
    description: str
    track_count: int
    created_at: datetime
    updated_at: datetime


class PlaylistDetailOut(PlaylistOut):
    entries: list[EntryOut]


class PlaylistIn(Schema):
    name: str = Field(max_length=PLAYLIST_NAME_MAX_LENGTH)
    description: str = Field("", max_length=PLAYLIST_DESCRIPTION_MAX_LENGTH)


class PlaylistChangeIn(Schema):
    name: str = Field(max_length=PLAYLIST_NAME_MAX_LENGTH)
    description: str | None = Field(None, max_length=PLAYLIST_DESCRIPTION_MAX_LENGTH)


class EntryIn(Schema):
    track: str = Field(max_length=220, description="The track's slug.")


class OrderIn(Schema):
    entries: list[int] = Field(
        max_length=services.MAX_PLAYLIST_ENTRIES,
        description="Every entry id of the playlist, each once, in the new order.",
    )


def _errors(*statuses: int) -> dict[int, type[ErrorOut]]:
    return dict.fromkeys(sorted({*statuses, 400, 401, 429}), ErrorOut)


def _refused(error: services.LibraryError) -> Status[dict[str, Any]]:
    status = 404 if error.code in NOT_FOUND_CODES else 400
    return Status(status, error_envelope(error.code, error.message))


def _track(item: LibraryTrack) -> dict[str, Any]:
    track = item.track
    return {
        "slug": track.slug,
        "title": track.title,
        "composer": track.composer,
        "duration_seconds": track.duration_seconds,
        "page_url": reverse("catalog:track", args=[track.slug]) if item.in_catalogue else None,
        "in_catalogue": item.in_catalogue,
        "play_url": item.play_url,
        "plays_full": item.plays_full,
    }


def _playlist(playlist: Playlist, track_count: int) -> dict[str, Any]:
    return {
        "id": playlist.pk,
        "name": playlist.name,
        "description": playlist.description,
        "track_count": track_count,
        "created_at": playlist.created_at,
        "updated_at": playlist.updated_at,
    }


def _playlist_detail(request: AuthenticatedRequest, playlist: Playlist) -> dict[str, Any]:
    items = selectors.playlist_entries(person=request.user, playlist=playlist)
    return {
        **_playlist(playlist, len(items)),
        "entries": [
            {**_track(item), "entry_id": item.entry_id, "position": index}
            for index, item in enumerate(items)
        ],
    }


def _own(request: AuthenticatedRequest, playlist_id: int) -> Playlist:
    playlist = selectors.playlist_of(person=request.user, playlist_id=playlist_id)
    if playlist is None:
        raise services.LibraryError("You have no such playlist.", code="no_such_playlist")
    return playlist


@router.get(
    "/me/favourites",
    auth=django_auth,
    response={200: list[LibraryTrackOut], **_errors()},
    summary="My favourite tracks",
)
def my_favourites(request: AuthenticatedRequest) -> Any:
    """Newest first; tracks that left the catalogue stay, with in_catalogue false."""
    return [_track(item) for item in selectors.favourites_of(person=request.user)]


@router.put(
    "/me/favourites/{slug}",
    auth=django_auth,
    response={204: None, **_errors(404)},
    summary="Mark a track as a favourite",
)
def favourite_put(request: AuthenticatedRequest, slug: str) -> Any:
    """Idempotent: marking a favourite again changes nothing."""
    try:
        services.favourite_add(person=request.user, slug=slug)
    except services.LibraryError as error:
        return _refused(error)
    return Status(204, None)


@router.delete(
    "/me/favourites/{slug}",
    auth=django_auth,
    response={204: None, **_errors(404)},
    summary="Remove a track from my favourites",
)
def favourite_delete(request: AuthenticatedRequest, slug: str) -> Any:
    if not services.favourite_remove(person=request.user, slug=slug):
        return Status(
            404, error_envelope("not_a_favourite", "This track is not among your favourites.")
        )
    return Status(204, None)


@router.get(
    "/me/playlists",
    auth=django_auth,
    response={200: list[PlaylistOut], **_errors()},
    summary="My playlists",
)
def my_playlists(request: AuthenticatedRequest) -> Any:
    return [
        _playlist(playlist, playlist.track_count)  # type: ignore[attr-defined]
        for playlist in selectors.playlists_of(person=request.user)
    ]


@router.post(
    "/me/playlists",
    auth=django_auth,
    response={201: PlaylistDetailOut, **_errors(422)},
    summary="Make a playlist",
)
def playlist_post(request: AuthenticatedRequest, body: PlaylistIn) -> Any:
    try:
        playlist = services.playlist_create(
            person=request.user, name=body.name, description=body.description
        )
    except services.LibraryError as error:
        return _refused(error)
    return Status(201, _playlist_detail(request, playlist))


@router.get(
    "/me/playlists/{playlist_id}",
    auth=django_auth,
    response={200: PlaylistDetailOut, **_errors(404)},
    summary="One of my playlists, with its tracks in order",
)
def my_playlist(request: AuthenticatedRequest, playlist_id: int) -> Any:
    try:
        return Status(200, _playlist_detail(request, _own(request, playlist_id)))
    except services.LibraryError as error:
        return _refused(error)


@router.patch(
    "/me/playlists/{playlist_id}",
    auth=django_auth,
    response={200: PlaylistDetailOut, **_errors(404, 422)},
    summary="Rename a playlist (and change its description)",
)
def playlist_patch(request: AuthenticatedRequest, playlist_id: int, body: PlaylistChangeIn) -> Any:
    try:
        playlist = services.playlist_rename(
            person=request.user,
            playlist_id=playlist_id,
            name=body.name,
            description=body.description,
        )
    except services.LibraryError as error:
        return _refused(error)
    return Status(200, _playlist_detail(request, playlist))


@router.delete(
    "/me/playlists/{playlist_id}",
    auth=django_auth,
    response={204: None, **_errors(404)},
    summary="Delete a playlist",
)
def playlist_delete(request: AuthenticatedRequest, playlist_id: int) -> Any:
    try:
        services.playlist_delete(person=request.user, playlist_id=playlist_id)
    except services.LibraryError as error:
        return _refused(error)
    return Status(204, None)


@router.post(
    "/me/playlists/{playlist_id}/entries",
    auth=django_auth,
    response={201: PlaylistDetailOut, **_errors(404, 422)},
    summary="Add a track at the end of a playlist",
)
def entry_post(request: AuthenticatedRequest, playlist_id: int, body: EntryIn) -> Any:
    try:
        entry = services.playlist_entry_add(
            person=request.user, playlist_id=playlist_id, slug=body.track
        )
    except services.LibraryError as error:
        return _refused(error)
    return Status(201, _playlist_detail(request, entry.playlist))


@router.delete(
    "/me/playlists/{playlist_id}/entries/{entry_id}",
    auth=django_auth,
    response={204: None, **_errors(404)},
    summary="Take a track out of a playlist",
)
def entry_delete(request: AuthenticatedRequest, playlist_id: int, entry_id: int) -> Any:
    try:
        services.playlist_entry_remove(
            person=request.user, playlist_id=playlist_id, entry_id=entry_id
        )
    except services.LibraryError as error:
        return _refused(error)
    return Status(204, None)


@router.put(
    "/me/playlists/{playlist_id}/order",
    auth=django_auth,
    response={200: PlaylistDetailOut, **_errors(404, 422)},
    summary="Put a playlist's tracks in a new order",
)
def order_put(request: AuthenticatedRequest, playlist_id: int, body: OrderIn) -> Any:
    try:
        services.playlist_reorder(
            person=request.user, playlist_id=playlist_id, entry_ids=body.entries
        )
        return Status(200, _playlist_detail(request, _own(request, playlist_id)))
    except services.LibraryError as error:
        return _refused(error)
