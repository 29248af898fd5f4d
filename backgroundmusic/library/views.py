"""The account's Favourites and Playlists pages, and the favourite toggle of track pages and
catalogue rows. Thin: parse, call a service or selector, render. Every page is the signed-in
person's own; a playlist of someone else is not found (selectors.playlist_of)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from backgroundmusic.core.http import AuthenticatedRequest
from backgroundmusic.library import selectors, services
from backgroundmusic.library.forms import EntryAddForm, EntryMoveForm, PlaylistForm
from backgroundmusic.library.models import Playlist


def _next(request: AuthenticatedRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _fragment_wanted(request: AuthenticatedRequest) -> bool:
    """An htmx request that swaps only the control (not a boosted navigation)."""
    return "HX-Request" in request.headers and "HX-Boosted" not in request.headers


@login_required
@require_GET
def favourites_stylesheet(request: AuthenticatedRequest) -> HttpResponse:
    """The person's favourites as CSS that fills their catalogue rows' stars where JavaScript
    does not run (library/favourites.css). Its URL carries a digest of the favourites
    (templatetags.favourites_version), so a browser keeps it until they change."""
    response = render(
        request,
        "library/favourites.css",
        {"slugs": selectors.favourite_slugs(person=request.user)},
        content_type="text/css; charset=utf-8",
    )
    response["Cache-Control"] = "private, max-age=31536000, immutable"
    return response


@login_required
def favourites(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request,
        "library/favourites.html",
        {"items": selectors.favourites_of(person=request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def favourite(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """GET: the track's favourite state with its toggle (where a catalogue row's star leads
    without JavaScript, or before signing in). POST: toggles it."""
    track = selectors.library_track_get(person=request.user, slug=slug)
    track_url = reverse("catalog:track", args=[slug])
    if request.method == "POST":
        try:
            now_favourite = services.favourite_toggle(person=request.user, slug=slug)
        except services.LibraryError as error:
            if _fragment_wanted(request):
                return HttpResponse(error.message, status=400)
            messages.error(request, error.message)
            return redirect(_next(request, track_url))
        if _fragment_wanted(request):
            return render(
                request,
                "library/_favourite_toggle.html",
                {"slug": slug, "is_favourite": now_favourite, "next": _next(request, track_url)},
            )
        title = track.title if track is not None else slug
        messages.success(
            request,
            (
                _("“%(title)s” is in your favourites.")
                if now_favourite
                else _("“%(title)s” is no longer in your favourites.")
            )
            % {"title": title},
        )
        return redirect(_next(request, track_url))
    if track is None:
        raise Http404(_("There is no such track in the catalogue."))
    return render(
        request,
        "library/favourite.html",
        {
            "track": track,
            "is_favourite": selectors.is_favourite(person=request.user, track=track),
            "next": track_url,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def playlists(request: AuthenticatedRequest) -> HttpResponse:
    """The person's playlists, and the form that makes a new one."""
    form = PlaylistForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                playlist = services.playlist_create(person=request.user, **form.cleaned_data)
            except services.LibraryError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("The playlist is made."))
                return redirect("library:playlist", playlist_id=playlist.pk)
        status = 400
    return render(
        request,
        "library/playlists.html",
        {"playlists": selectors.playlists_of(person=request.user), "form": form},
        status=status,
    )


def _own_playlist(request: AuthenticatedRequest, playlist_id: int) -> Playlist:
    playlist = selectors.playlist_of(person=request.user, playlist_id=playlist_id)
    if playlist is None:
        raise Http404(_("You have no such playlist."))
    return playlist


@login_required
@require_http_methods(["GET", "POST"])
def playlist_detail(request: AuthenticatedRequest, playlist_id: int) -> HttpResponse:
    """The playlist's tracks with play-all, and the form that renames it."""
    playlist = _own_playlist(request, playlist_id)
    status = 200
    if request.method == "POST":
        form = PlaylistForm(request.POST)
        if form.is_valid():
            try:
                services.playlist_rename(
                    person=request.user, playlist_id=playlist.pk, **form.cleaned_data
                )
            except services.LibraryError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("The playlist is saved."))
                return redirect("library:playlist", playlist_id=playlist.pk)
        status = 400
    else:
        form = PlaylistForm(initial={"name": playlist.name, "description": playlist.description})
    return render(
        request,
        "library/playlist.html",
        {
            "playlist": playlist,
            "items": selectors.playlist_entries(person=request.user, playlist=playlist),
            "form": form,
        },
        status=status,
    )


@login_required
@require_POST
def playlist_delete(request: AuthenticatedRequest, playlist_id: int) -> HttpResponse:
    try:
        services.playlist_delete(person=request.user, playlist_id=playlist_id)
    except services.LibraryError as error:
        raise Http404(error.message) from None
    messages.success(request, _("The playlist is deleted."))
    return redirect("library:playlists")


@login_required
@require_POST
def entry_add(request: AuthenticatedRequest) -> HttpResponse:
    """From a track page: adds the track to one of the person's playlists."""
    form = EntryAddForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of your playlists."))
        return redirect(_next(request, reverse("library:playlists")))
    slug = form.cleaned_data["track"]
    track_url = reverse("catalog:track", args=[slug])
    try:
        services.playlist_entry_add(
            person=request.user, playlist_id=form.cleaned_data["playlist"], slug=slug
        )
    except services.LibraryError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The track is added to the playlist."))
    return redirect(_next(request, track_url))


@login_required
@require_POST
def entry_remove(request: AuthenticatedRequest, playlist_id: int, entry_id: int) -> HttpResponse:
    _own_playlist(request, playlist_id)
    try:
        services.playlist_entry_remove(
            person=request.user, playlist_id=playlist_id, entry_id=entry_id
        )
    except services.LibraryError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The track is taken out of the playlist."))
    return redirect("library:playlist", playlist_id=playlist_id)


@login_required
@require_POST
def entry_move(request: AuthenticatedRequest, playlist_id: int, entry_id: int) -> HttpResponse:
    """Moves an entry to a place counted from 1, as the page shows it."""
    _own_playlist(request, playlist_id)
    form = EntryMoveForm(request.POST)
    try:
        if not form.is_valid():
            raise services.LibraryError(_("Choose a place in the playlist."), code="bad_position")
        services.playlist_entry_move(
            person=request.user,
            playlist_id=playlist_id,
            entry_id=entry_id,
            position=form.cleaned_data["position"] - 1,
        )
    except services.LibraryError as error:
        messages.error(request, error.message)
    return redirect("library:playlist", playlist_id=playlist_id)
