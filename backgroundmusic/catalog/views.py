"""Catalogue pages: browse and search, a track, collections; staff editing under /staff/catalogue/.

Thin: parse with a form, ask a selector or call a service, render.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from backgroundmusic.catalog import selectors, services
from backgroundmusic.catalog.forms import (
    CatalogueSearchForm,
    CollectionForm,
    FacetForm,
    TrackForm,
)
from backgroundmusic.catalog.models import Collection, Track
from backgroundmusic.catalog.templatetags.catalog_tags import duration
from backgroundmusic.core.errors import DomainError
from backgroundmusic.media.streaming import playable_url, playable_urls
from backgroundmusic.staffroles.selectors import staff_may_manage_catalogue

RANGE_FIELDS = ("bpm_min", "bpm_max", "energy_min", "energy_max", "duration_min", "duration_max")


@dataclass(frozen=True)
class TrackRow:
    """What a row of a track list (catalog/_track_rows.html) shows, as text ready to print: a
    list page has 24 rows or more, and the template engine's per-row tags and lookups were most
    of its time."""

    slug: str
    title: str
    url: str
    preview_url: str | None
    play_label: str
    composer: str
    facets: str
    numbers: str
    is_published: bool


def _track_rows(request: HttpRequest, tracks: list[Track]) -> list[TrackRow]:
    urls = playable_urls(user=request.user, tracks=tracks, kind="preview")
    # One reverse() for every row: slugs need no quoting.
    track_url = reverse("catalog:track", args=["-"]).removesuffix("-/")
    return [
        TrackRow(
            slug=track.slug,
            title=track.title,
            url=f"{track_url}{track.slug}/",
            preview_url=urls[track.pk],
            play_label=_("Play the preview of %(title)s") % {"title": track.title},
            composer=track.composer,
            facets=_facets_text(track),
            numbers=_numbers_text(track),
            is_published=track.is_published,
        )
        for track in tracks
    ]


def _facets_text(track: Track) -> str:
    """ "Ambient, Classical · Calm": the genres, then the moods, in the active language."""
    genres = ", ".join(selectors.facet_name(f) for f in track.genre_facets)  # type: ignore[attr-defined]
    moods = ", ".join(selectors.facet_name(f) for f in track.mood_facets)  # type: ignore[attr-defined]
    return f"{genres} · {moods}" if moods else genres


def _numbers_text(track: Track) -> str:
    """ "90 BPM · energy 5 · 2:30"."""
    parts = [_("%(bpm)s BPM") % {"bpm": track.tempo_bpm}] if track.tempo_bpm else []
    parts.append(_("energy %(energy)s") % {"energy": track.energy})
    if track.duration_seconds:
        parts.append(duration(track.duration_seconds))
    return " · ".join(parts)


def _query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    """/catalog/: search and facets from GET parameters, so every result page has a URL."""
    form = CatalogueSearchForm(request.GET)
    result = None
    problem = ""
    if form.is_valid():
        try:
            result = selectors.track_search(user=request.user, **form.search_arguments())
        except selectors.SearchError as error:
            problem = error.message
    else:
        problem = _("Some search settings could not be used; see the messages by the fields.")
    context = {
        "form": form,
        "result": result,
        "rows": _track_rows(request, result.items) if result else [],
        "problem": problem,
        "range_fields": RANGE_FIELDS,
        "query_without_page": _query_without_page(request),
        "filtered": any(value for key, value in request.GET.items() if key not in ("sort", "page")),
    }
    return render(request, "catalog/catalogue.html", context, status=400 if problem else 200)


@require_GET
def track_detail(request: HttpRequest, slug: str) -> HttpResponse:
    track = selectors.track_public_get(user=request.user, slug=slug)
    if track is None:
        raise Http404(_("There is no such track in the catalogue."))
    master = track.master  # type: ignore[attr-defined]
    return render(
        request,
        "catalog/track.html",
        {
            "track": track,
            "master": master,
            "waveform_points": selectors.waveform_svg_points(master.waveform_peaks or []),
            "preview_url": playable_url(user=request.user, track=track, kind="preview"),
        },
    )


@require_GET
def collection_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.collections_public(user=request.user), 48).get_page(
        request.GET.get("page")
    )
    return render(request, "catalog/collections.html", {"page": page})


@require_GET
def collection_detail(request: HttpRequest, slug: str) -> HttpResponse:
    found = selectors.collection_public_get(user=request.user, slug=slug)
    if found is None:
        raise Http404(_("There is no such collection."))
    collection, tracks = found
    return render(
        request,
        "catalog/collection.html",
        {"collection": collection, "rows": _track_rows(request, tracks)},
    )


def _require_manager(request: HttpRequest) -> None:
    if not staff_may_manage_catalogue(actor=request.user):
        raise PermissionDenied


@login_required
@never_cache
@require_GET
def staff_tracks(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    query = request.GET.get("q", "")[:200]
    tracks = selectors.tracks_for_staff(query=query)
    page = Paginator(tracks, 50).get_page(request.GET.get("page"))
    return render(request, "catalog/staff/tracks.html", {"page": page, "query": query})


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def staff_track_edit(request: HttpRequest, track_id: int | None = None) -> HttpResponse:
    _require_manager(request)
    track = get_object_or_404(Track, pk=track_id) if track_id is not None else None
    if request.method == "POST":
        form = TrackForm(request.POST)
        if form.is_valid():
            try:
                if track is None:
                    track = services.track_create(actor=request.user, **form.track_fields())
                    messages.success(request, _("The track is created."))
                else:
                    track = services.track_update(
                        actor=request.user, track=track, **form.track_fields()
                    )
                    messages.success(request, _("The track is saved."))
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                return HttpResponseRedirect(reverse("catalog_staff:track", args=[track.pk]))
    else:
        initial = TrackForm.initial_for(track) if track else {}
        form = TrackForm(initial=initial or None)
    return render(
        request,
        "catalog/staff/track_form.html",
        {"form": form, "track": track},
        status=400 if form.errors else 200,
    )


@login_required
@never_cache
@require_GET
def staff_collections(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    return render(
        request,
        "catalog/staff/collections.html",
        {"collections": selectors.collections_for_staff()},
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def staff_collection_edit(request: HttpRequest, collection_id: int | None = None) -> HttpResponse:
    _require_manager(request)
    collection = (
        get_object_or_404(Collection, pk=collection_id) if collection_id is not None else None
    )
    if request.method == "POST":
        form = CollectionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            fields = {
                "kind": data["kind"],
                "title": data["title"],
                "slug": data["slug"],
                "description": data["description"],
                "is_published": data["is_published"],
                "track_ids": data["track_codes"],
            }
            try:
                if collection is None:
                    collection = services.collection_create(actor=request.user, **fields)
                    messages.success(request, _("The collection is created."))
                else:
                    collection = services.collection_update(
                        actor=request.user, collection=collection, **fields
                    )
                    messages.success(request, _("The collection is saved."))
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                return HttpResponseRedirect(reverse("catalog_staff:collections"))
    else:
        form = CollectionForm(
            initial=CollectionForm.initial_for(collection) if collection else None
        )
    return render(
        request,
        "catalog/staff/collection_form.html",
        {"form": form, "collection": collection},
        status=400 if form.errors else 200,
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def staff_facets(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form = FacetForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            facet = services.facet_create(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("“%(name)s” is added.") % {"name": facet.name_en})
            return HttpResponseRedirect(reverse("catalog_staff:facets"))
    return render(
        request,
        "catalog/staff/facets.html",
        {"form": form, "vocabularies": selectors.facet_vocabularies()},
        status=400 if form.errors else 200,
    )
