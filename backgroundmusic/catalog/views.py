"""Catalogue pages: browse and search, a track, collections (staff editing: staff_views.py).

Thin: parse with a form, ask a selector or call a service, render.
"""

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from backgroundmusic.catalog import page_cache, selectors
from backgroundmusic.catalog.demo.filling import demo_catalogue_progress
from backgroundmusic.catalog.forms import CatalogueSearchForm
from backgroundmusic.catalog.models import Track
from backgroundmusic.catalog.templatetags.catalog_tags import duration
from backgroundmusic.media.downloads import download_links
from backgroundmusic.media.streaming import playable_url, playable_urls

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


def track_rows(request: HttpRequest, tracks: list[Track]) -> list[TrackRow]:
    urls = playable_urls(user=request.user, tracks=tracks, kind="preview")
    # One reverse() for every row: slugs need no quoting.
    track_url = reverse("catalog:track", args=["-"]).removesuffix("-/")
    return [
        TrackRow(
            slug=track.slug,
            title=selectors.track_title(track),
            url=f"{track_url}{track.slug}/",
            preview_url=urls[track.pk],
            play_label=_("Play the preview of %(title)s") % {"title": selectors.track_title(track)},
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


@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    """/catalog/: search and facets from GET parameters, so every result page has a URL. The
    listing (filters and results) comes from the page cache when it is there."""
    query = page_cache.listing_query(request.GET)
    key = page_cache.listing_key(query=query, user=request.user)
    listing = page_cache.listing_get(key)
    status = 200
    if listing is None:
        listing, status = _listing(request, query)
        if status == 200:
            page_cache.listing_store(key, listing)
    return render(request, "catalog/catalogue.html", {"listing": listing}, status=status)


def _listing(request: HttpRequest, query: QueryDict) -> tuple[SafeString, int]:
    """The listing of the canonical `query` and its status. Rendered without the request: what
    it shows depends on the query, the language and what the viewer may play, nothing else."""
    form = CatalogueSearchForm(query)
    result = None
    problem = ""
    if form.is_valid():
        try:
            result = selectors.track_search(user=request.user, **form.search_arguments())
        except selectors.SearchError as error:
            problem = error.message
    else:
        problem = _("Some search settings could not be used; see the messages by the fields.")
    without_page = query.copy()
    without_page.pop("page", None)
    context = {
        "form": form,
        "result": result,
        "rows": track_rows(request, result.items) if result else [],
        "problem": problem,
        "range_fields": RANGE_FIELDS,
        "query_without_page": without_page.urlencode(),
        "filtered": any(name not in ("sort", "page") for name in query),
        "demo_progress": demo_catalogue_progress(),
        "live_url": f"{reverse('catalog:catalogue')}?{query.urlencode()}".removesuffix("?"),
    }
    html = render_to_string("catalog/_catalogue_listing.html", context)
    return html, 400 if problem else 200


@require_GET
def track_detail(request: HttpRequest, slug: str) -> HttpResponse:
    track = selectors.track_public_get(user=request.user, slug=slug)
    if track is None:
        raise Http404(_("There is no such track in the catalogue."))
    master = track.master  # type: ignore[attr-defined]
    # Whoever may hear the whole track (a licensee) gets the web player's rendition; everyone
    # else the preview.
    full_url = playable_url(user=request.user, track=track, kind="opus")
    return render(
        request,
        "catalog/track.html",
        {
            "track": track,
            "master": master,
            "waveform_points": selectors.waveform_svg_points(master.waveform_peaks or []),
            "play_url": full_url or playable_url(user=request.user, track=track, kind="preview"),
            "plays_full": full_url is not None,
            "downloads": download_links(user=request.user, tracks=[track])[track.pk],
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
        {"collection": collection, "rows": track_rows(request, tracks)},
    )
