"""/api/tracks and /api/collections: the public catalogue, searched by selectors.track_search
with the same filters as the /catalog/ page. Errors use the API's one envelope."""

from datetime import date
from typing import Any, Literal

from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from backgroundmusic.catalog import selectors
from backgroundmusic.catalog.models import Collection, Facet, Track
from backgroundmusic.core.api_errors import ErrorOut, error_envelope
from backgroundmusic.core.errors import DomainError
from backgroundmusic.media.streaming import playable_url, playable_urls

router = Router(tags=["catalogue"])


class FacetOut(Schema):
    slug: str
    name_en: str
    name_ru: str


class FacetCountOut(Schema):
    slug: str
    name: str
    count: int
    selected: bool


class FacetCountsOut(Schema):
    genres: list[FacetCountOut]
    moods: list[FacetCountOut]
    instruments: list[FacetCountOut]


class TrackOut(Schema):
    slug: str
    title: str
    title_ru: str = Field(description="The title in Russian; empty when there is none.")
    composer: str
    rights_holder: str
    catalogue_code: str
    genres: list[FacetOut]
    moods: list[FacetOut]
    instruments: list[FacetOut]
    tempo_bpm: int | None
    musical_key: str
    energy: int
    duration_seconds: float | None
    is_instrumental: bool
    release_date: date | None
    page_url: str = Field(description="The track's page on the site.")
    preview_url: str | None = Field(
        description="A signed, expiring URL of the preview; null when there is none."
    )


class LoudnessOut(Schema):
    integrated_lufs: float | None
    loudness_range_lu: float | None
    true_peak_dbtp: float | None


class TrackDetailOut(TrackOut):
    description: str
    description_ru: str = Field(description="The description in Russian; empty when none.")
    tags: list[str]
    loudness: LoudnessOut
    waveform_peaks: list[Any]


class TrackPageOut(Schema):
    items: list[TrackOut]
    total: int
    page: int
    page_size: int
    pages: int
    facets: FacetCountsOut


class CollectionOut(Schema):
    slug: str
    title: str
    kind: str
    description: str
    track_count: int


class CollectionDetailOut(CollectionOut):
    tracks: list[TrackOut]


class TrackFilters(Schema):
    q: str = Field("", max_length=selectors.MAX_QUERY_LENGTH, description="Search words")
    genre: list[str] = Field([], description="Genre slugs (any of them)")
    mood: list[str] = Field([], description="Mood slugs (any of them)")
    instrument: list[str] = Field([], description="Instrument slugs (any of them)")
    bpm_min: int | None = Field(None, ge=0, le=selectors.MAX_RANGE_VALUE)
    bpm_max: int | None = Field(None, ge=0, le=selectors.MAX_RANGE_VALUE)
    energy_min: int | None = Field(None, ge=0, le=selectors.MAX_RANGE_VALUE)
    energy_max: int | None = Field(None, ge=0, le=selectors.MAX_RANGE_VALUE)
    duration_min: float | None = Field(None, ge=0, le=selectors.MAX_RANGE_VALUE)
    duration_max: float | None = Field(None, ge=0, le=selectors.MAX_RANGE_VALUE)
    sort: Literal["relevance", "title", "newest", "bpm", "duration"] = "relevance"
    page: int = Field(1, ge=1, le=selectors.MAX_PAGE)
    page_size: int = Field(24, ge=1, le=selectors.MAX_PAGE_SIZE)


def _facet(facet: Facet) -> dict[str, str]:
    return {"slug": facet.slug, "name_en": facet.name_en, "name_ru": facet.name_ru}


def _track(track: Track, preview_url: str | None) -> dict[str, Any]:
    return {
        "slug": track.slug,
        "title": track.title,
        "title_ru": track.title_ru,
        "composer": track.composer,
        "rights_holder": track.rights_holder,
        "catalogue_code": track.catalogue_code,
        # Facet lists the selectors load with every public track (selectors.FACET_ATTRIBUTES).
        "genres": [_facet(f) for f in track.genre_facets],  # type: ignore[attr-defined]
        "moods": [_facet(f) for f in track.mood_facets],  # type: ignore[attr-defined]
        "instruments": [_facet(f) for f in track.instrument_facets],  # type: ignore[attr-defined]
        "tempo_bpm": track.tempo_bpm,
        "musical_key": track.musical_key,
        "energy": track.energy,
        "duration_seconds": track.duration_seconds,
        "is_instrumental": track.is_instrumental,
        "release_date": track.release_date,
        "page_url": reverse("catalog:track", args=[track.slug]),
        "preview_url": preview_url,
    }


def _tracks(request: HttpRequest, tracks: list[Track]) -> list[dict[str, Any]]:
    urls = playable_urls(user=request.user, tracks=tracks, kind="preview")
    return [_track(track, urls[track.pk]) for track in tracks]


def _not_found(message: str) -> Status[dict[str, Any]]:
    return Status(404, error_envelope("not_found", message))


@router.get(
    "/tracks",
    response={200: TrackPageOut, 400: ErrorOut, 422: ErrorOut},
    summary="Search the catalogue",
)
def tracks(request: HttpRequest, filters: Query[TrackFilters]) -> Any:
    """Public tracks matching every filter, one page, and facet counts (each facet counted with
    every filter but its own). Ranges are inclusive; durations in seconds."""
    try:
        result = selectors.track_search(
            user=request.user,
            query=filters.q,
            genres=filters.genre,
            moods=filters.mood,
            instruments=filters.instrument,
            bpm_min=filters.bpm_min,
            bpm_max=filters.bpm_max,
            energy_min=filters.energy_min,
            energy_max=filters.energy_max,
            duration_min=filters.duration_min,
            duration_max=filters.duration_max,
            sort=filters.sort,
            page=filters.page,
            page_size=filters.page_size,
        )
    except DomainError as error:
        return Status(400, error_envelope(error.code, error.message))
    return Status(
        200,
        {
            "items": _tracks(request, result.items),
            "total": result.total,
            "page": result.page,
            "page_size": result.page_size,
            "pages": result.pages,
            "facets": {
                name: [vars(count) for count in counts] for name, counts in result.facets.items()
            },
        },
    )


@router.get(
    "/tracks/{slug}",
    response={200: TrackDetailOut, 400: ErrorOut, 404: ErrorOut},
    summary="A track",
)
def track(request: HttpRequest, slug: str) -> Any:
    found = selectors.track_public_get(user=request.user, slug=slug)
    if found is None:
        return _not_found("There is no such track in the catalogue.")
    master = found.master  # type: ignore[attr-defined]
    return Status(
        200,
        {
            **_track(found, playable_url(user=request.user, track=found, kind="preview")),
            "description": found.description,
            "description_ru": found.description_ru,
            "tags": [tag.name for tag in found.tags.all()],
            "loudness": {
                "integrated_lufs": master.integrated_lufs,
                "loudness_range_lu": master.loudness_range_lu,
                "true_peak_dbtp": master.true_peak_dbtp,
            },
            "waveform_peaks": master.waveform_peaks or [],
        },
    )


def _collection(collection: Collection, track_count: int) -> dict[str, Any]:
    return {
        "slug": collection.slug,
        "title": collection.title,
        "kind": collection.kind,
        "description": collection.description,
        "track_count": track_count,
    }


@router.get(
    "/collections",
    response={200: list[CollectionOut], 400: ErrorOut},
    summary="Published collections",
)
def collections(request: HttpRequest) -> Any:
    return [
        _collection(collection, collection.track_count)  # type: ignore[attr-defined]
        for collection in selectors.collections_public(user=request.user)
    ]


@router.get(
    "/collections/{slug}",
    response={200: CollectionDetailOut, 400: ErrorOut, 404: ErrorOut},
    summary="A collection and its tracks",
)
def collection(request: HttpRequest, slug: str) -> Any:
    found = selectors.collection_public_get(user=request.user, slug=slug)
    if found is None:
        return _not_found("There is no such collection.")
    item, tracks = found
    return Status(
        200,
        {
            **_collection(item, len(tracks)),
            "tracks": _tracks(request, tracks),
        },
    )
