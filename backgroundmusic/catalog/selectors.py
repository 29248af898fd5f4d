"""Every read of the catalogue that carries a rule: what the site shows, and search.

The catalogue shows a person the tracks whose preview they may play, as
`media.streaming.playable_tracks` defines it (for most people: published, with a ready master),
and asks nothing of the media app but that module. `track_search` is the one search, used by the
/catalog/ pages and by the API alike.

Text search reads the terms the catalogue services keep in `Track.search_document`
(catalog.search_terms: stems, one Latin sound spelling for both alphabets); every query word must
match one of its terms, the terms one edit away from it or, from three letters, the terms it
begins. The matching, the counts and the order are worked out in the process's search index
(catalog/search_index.py), the same on both databases; the page's rows come from the database.
"Relevance" ranks words found in a title or the composer first, then words found as typed rather
than through a typo or a prefix. See docs/decisions/0037-search-engine.md and
0044-search-index-in-memory.md.
"""

import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from backgroundmusic.catalog import search_index, search_terms
from backgroundmusic.catalog.models import (
    Collection,
    Facet,
    Genre,
    Instrument,
    Mood,
    SearchTermVariant,
    Track,
)
from backgroundmusic.catalog.search_index import WordMatch
from backgroundmusic.core.errors import DomainError
from backgroundmusic.media.streaming import Actor, playable_audience, playable_tracks

SORTS = ("relevance", "title", "newest", "bpm", "duration")
MAX_PAGE_SIZE = 100
MAX_QUERY_LENGTH = 200
MAX_PAGE = 100_000
MAX_RANGE_VALUE = 100_000  # above any tempo, energy or duration (s); keeps integers in range
_SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,60}$")


class SearchError(DomainError):
    """A search parameter is out of range or names nothing; the message says which."""

    code = "invalid_search"


@dataclass(frozen=True)
class FacetCount:
    slug: str
    name: str
    count: int
    selected: bool


@dataclass(frozen=True)
class SearchResult:
    items: list[Track]
    total: int
    page: int
    page_size: int
    sort: str
    facets: dict[str, list[FacetCount]] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _russian() -> bool:
    return (get_language() or "en").startswith("ru")


def facet_name(facet: Facet) -> str:
    """The facet's name in the active language."""
    return facet.name_ru if _russian() else facet.name_en


def track_title(track: Track) -> str:
    """The track's title in the active language (the English one where it has no Russian)."""
    return (track.title_ru if _russian() else "") or track.title


def track_description(track: Track) -> str:
    """The track's description in the active language (the English one where it has no
    Russian)."""
    return (track.description_ru if _russian() else "") or track.description


def tag_name(tag: Any) -> str:
    """A tag's name in the active language (the English one where it has no Russian)."""
    return str((tag.name_ru if _russian() else "") or tag.name)


def catalogue_tracks(*, user: Actor) -> QuerySet[Track]:
    """The tracks the catalogue shows `user`: those whose preview they may play."""
    return playable_tracks(user=user, kind="preview")


# What a row of a list shows (pages and API); the rest of a track (description, search document)
# and its master (waveform, probe and ingest details) stay in the database.
LISTING_FIELDS = (
    "title",
    "title_ru",
    "slug",
    "composer",
    "rights_holder",
    "catalogue_code",
    "tempo_bpm",
    "musical_key",
    "energy",
    "duration_seconds",
    "is_instrumental",
    "release_date",
    "is_published",
)


def tracks_for_listing(tracks: QuerySet[Track]) -> QuerySet[Track]:
    """`tracks` loaded for a list of rows (search results, a collection): LISTING_FIELDS. Give
    the list to `facets_attach` next."""
    return tracks.only(*LISTING_FIELDS)


def query_words(query: str) -> list[str]:
    """The words of a search query (catalog.search_terms.words), at most MAX_QUERY_WORDS."""
    return search_terms.words(query)[: search_terms.MAX_QUERY_WORDS]


def word_matches(words: Sequence[str]) -> list[WordMatch]:
    """What each query word matches, in one statement (the typo neighbours of every word)."""
    terms = [search_terms.word_terms(word) for word in words]
    fuzzy = [
        [
            spelling
            for spelling in search_terms.typo_spellings(word)
            if len(spelling) >= search_terms.MIN_FUZZY
        ]
        for word in words
    ]
    variants = {
        variant
        for spellings in fuzzy
        for spelling in spellings
        for variant in search_terms.deletions(spelling)
    }
    known: set[str] = set()
    if variants:
        known = set(
            SearchTermVariant.objects.filter(variant__in=sorted(variants)).values_list(
                "term", flat=True
            )
        )
    matches = []
    for own, spellings in zip(terms, fuzzy, strict=True):
        near = sorted(
            candidate
            for candidate in known
            if candidate not in own
            and any(search_terms.within_one_edit(spelling, candidate) for spelling in spellings)
        )
        prefix = own[0] if own and len(own[0]) >= search_terms.MIN_PREFIX else None
        matches.append(WordMatch(own=own, near=tuple(near), prefix=prefix))
    return matches


def _check_range(name: str, low: float | None, high: float | None, floor: float) -> None:
    for value in (low, high):
        if value is not None and (
            not math.isfinite(value) or not floor <= value <= MAX_RANGE_VALUE
        ):
            raise SearchError(
                _("%(name)s must be a number from %(floor)s to %(ceiling)s.")
                % {"name": name, "floor": floor, "ceiling": MAX_RANGE_VALUE}
            )
    if low is not None and high is not None and low > high:
        raise SearchError(
            _("%(name)s: the lower bound %(low)s is above the upper bound %(high)s.")
            % {"name": name, "low": low, "high": high}
        )


def _facets_by_slug(model: type[Facet], slugs: Sequence[str], label: str) -> list[int]:
    slugs = list(dict.fromkeys(str(slug) for slug in slugs if str(slug)))
    if not slugs:
        return []
    valid = [slug for slug in slugs if _SLUG.match(slug)]
    found = dict(model._default_manager.filter(slug__in=valid).values_list("slug", "pk"))
    unknown = [slug for slug in slugs if slug not in found]
    if unknown:
        raise SearchError(
            _("Unknown %(facet)s: %(values)s.")
            % {"facet": label, "values": ", ".join(slug[:60] for slug in unknown[:10])}
        )
    return [found[slug] for slug in slugs]


FACET_MODELS: dict[str, type[Facet]] = {"genres": Genre, "moods": Mood, "instruments": Instrument}


def _through(relation: str) -> tuple[str, str]:
    """The quoted table and facet column of a track's facet relation."""
    through = getattr(Track, relation).through
    model = FACET_MODELS[relation]
    column = through._meta.get_field(model.__name__.lower()).column
    quote = connection.ops.quote_name
    return quote(through._meta.db_table), quote(column)


FACET_ATTRIBUTES = {
    "genres": "genre_facets",
    "moods": "mood_facets",
    "instruments": "instrument_facets",
}
_FACET_COLUMNS = ["id", "slug", "name_en", "name_ru"]


def _facet_rows(
    source: Callable[[str, str], tuple[str, str, list[Any]]],
) -> Iterator[tuple[str, int, Facet]]:
    """(relation, owner, facet) for every facet row of the three vocabularies, by English name
    (the models' ordering), then id; in one statement, each facet object made once.

    `source(relation, facet_table)` gives, for one vocabulary, the owner column (a track id, or
    0), what follows FROM (the facet table aliased `f`, joins, conditions) and its parameters.
    Identifiers are quoted model metadata; every value is a bound parameter.
    """
    quote = connection.ops.quote_name
    selected = ", ".join(f"f.{quote(column)}" for column in _FACET_COLUMNS)
    selects = []
    params: list[Any] = []
    for relation, model in FACET_MODELS.items():
        owner, rest, rest_params = source(relation, quote(model._meta.db_table))
        selects.append(f"SELECT %s, {owner}, {selected} FROM {rest}")  # noqa: S608
        params += [relation, *rest_params]
    made: dict[tuple[str, int], Facet] = {}
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(selects) + " ORDER BY 5, 3", params)
        rows = cursor.fetchall()
    for relation, owner, *values in rows:
        facet = made.get((relation, values[0]))
        if facet is None:
            facet = FACET_MODELS[relation].from_db(connection.alias, _FACET_COLUMNS, values)
            made[(relation, values[0])] = facet
        yield relation, owner, facet


def facets_attach(tracks: Sequence[Track]) -> None:
    """Sets `genre_facets`, `mood_facets` and `instrument_facets` on every track: lists of its
    facets by English name. One statement for all three relations and any number of tracks, where
    three prefetches made a related manager per track and a facet object per link (measured:
    about a third of a catalogue page's time)."""
    for track in tracks:
        for attribute in FACET_ATTRIBUTES.values():
            setattr(track, attribute, [])
    if not tracks:
        return
    by_id = {track.pk: track for track in tracks}
    quote = connection.ops.quote_name
    track_id = quote("track_id")
    marks = ", ".join(["%s"] * len(by_id))

    def links(relation: str, facets: str) -> tuple[str, str, list[Any]]:
        table, column = _through(relation)
        joined = f"{facets} f JOIN {table} x ON x.{column} = f.{quote('id')}"
        return f"x.{track_id}", f"{joined} WHERE x.{track_id} IN ({marks})", list(by_id)

    for relation, owner, facet in _facet_rows(links):
        getattr(by_id[owner], FACET_ATTRIBUTES[relation]).append(facet)


def facet_vocabularies() -> dict[str, list[Facet]]:
    """Every genre, mood and instrument by English name, in one statement."""
    vocabularies: dict[str, list[Facet]] = {relation: [] for relation in FACET_MODELS}
    for relation, _owner, facet in _facet_rows(lambda _relation, facets: ("0", f"{facets} f", [])):
        vocabularies[relation].append(facet)
    return vocabularies


def _facet_list(
    facets: list[Facet], counts: dict[int, int], selected: list[int]
) -> list[FacetCount]:
    named = sorted(((facet_name(facet), facet) for facet in facets), key=lambda pair: pair[0])
    return [
        FacetCount(
            slug=facet.slug,
            name=name,
            count=counts.get(facet.pk, 0),
            selected=facet.pk in selected,
        )
        for name, facet in named
    ]


def track_search(
    *,
    user: Actor,
    query: str = "",
    genres: Sequence[str] = (),
    moods: Sequence[str] = (),
    instruments: Sequence[str] = (),
    bpm_min: int | None = None,
    bpm_max: int | None = None,
    energy_min: int | None = None,
    energy_max: int | None = None,
    duration_min: float | None = None,
    duration_max: float | None = None,
    sort: str = "relevance",
    page: int = 1,
    page_size: int = 24,
    with_facets: bool = True,
) -> SearchResult:
    """The catalogue tracks of `user` matching every given filter, one page of them, and facet
    counts.

    Facets are given by slug: several values of one facet match any of them; different facets
    all apply. Each facet's counts apply every filter but that facet's own (so a visitor sees
    how many tracks each further choice would give). Ranges are inclusive; durations in seconds.
    "relevance" sorts by `_relevance` with a query and by title otherwise. A query of no words
    (only characters such as %, \\ or quotes) finds nothing.
    Raises SearchError naming a bad parameter.
    """
    if len(query) > MAX_QUERY_LENGTH:
        raise SearchError(
            _("The search text may be at most %(n)d characters long.") % {"n": MAX_QUERY_LENGTH}
        )
    if sort not in SORTS:
        raise SearchError(
            _("Unknown sort order “%(sort)s”; use one of: %(sorts)s.")
            % {"sort": sort, "sorts": ", ".join(SORTS)}
        )
    if not 1 <= page <= MAX_PAGE:
        raise SearchError(_("The page number must be from 1 to %(n)d.") % {"n": MAX_PAGE})
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise SearchError(_("The page size must be from 1 to %(n)d.") % {"n": MAX_PAGE_SIZE})
    _check_range(_("Tempo (BPM)"), bpm_min, bpm_max, 0)
    _check_range(_("Energy"), energy_min, energy_max, 0)
    _check_range(_("Duration"), duration_min, duration_max, 0)
    genre_ids = _facets_by_slug(Genre, genres, _("genre"))
    mood_ids = _facets_by_slug(Mood, moods, _("mood"))
    instrument_ids = _facets_by_slug(Instrument, instruments, _("instrument"))

    words = query_words(query)
    matches = word_matches(words) if words else []
    index = search_index.current_index()
    base = index.audience(
        playable_audience(user=user, kind="preview"),
        lambda: catalogue_tracks(user=user).values_list("pk", flat=True),
    )
    if matches:
        base = base & index.text(matches)
    if (query.strip() and not words) or any(
        not (match.own or match.near or match.prefix) for match in matches
    ):
        # Only characters that are no words (%, \, quotes, operators), or a word with no term
        # (such as "ъ" alone): searched for as text, they are in no track's words.
        base = np.zeros_like(base)
    for name, low, high in (
        ("tempo_bpm", bpm_min, bpm_max),
        ("energy", energy_min, energy_max),
        ("duration_seconds", duration_min, duration_max),
    ):
        within = index.in_range(name, low, high)
        if within is not None:
            base = base & within

    chosen = {"genres": genre_ids, "moods": mood_ids, "instruments": instrument_ids}
    chosen_tracks = {
        relation: index.with_facets(relation, ids) for relation, ids in chosen.items() if ids
    }
    matched, counts = index.facet_counts(base, chosen_tracks, with_counts=with_facets)
    total = int(np.count_nonzero(matched))
    facets: dict[str, list[FacetCount]] = {}
    if with_facets:
        vocabularies = facet_vocabularies()
        facets = {
            relation: _facet_list(vocabularies[relation], counts[relation], chosen[relation])
            for relation in FACET_MODELS
        }
    pages = max(1, math.ceil(total / page_size))
    items: list[Track] = []
    if page <= pages:
        ids = index.page(
            matched,
            sort=sort,
            language="ru" if _russian() else "en",
            score=index.relevance(matches) if matches and sort == "relevance" else None,
            start=(page - 1) * page_size,
            size=page_size,
        )
        # Read through the one rule again: a track the index holds for an audience it has since
        # left (its token not yet replaced) is not shown.
        rows = tracks_for_listing(catalogue_tracks(user=user).filter(pk__in=ids)).in_bulk()
        items = [rows[pk] for pk in ids if pk in rows]
    facets_attach(items)
    return SearchResult(
        items=items, total=total, page=page, page_size=page_size, sort=sort, facets=facets
    )


def track_public_get(*, user: Actor, slug: str) -> Track | None:
    """A catalogue track of `user` by its slug, with its master, facets (`genre_facets`, …, see
    `facets_attach`) and tags; None when the catalogue does not show it to them."""
    track = (
        catalogue_tracks(user=user)
        .select_related("master")
        .prefetch_related("tags")
        .filter(slug=slug)
        .first()
    )
    if track is not None:
        facets_attach([track])
    return track


def collections_public(*, user: Actor) -> QuerySet[Collection]:
    """Published collections, each with `track_count` (its catalogue tracks for `user`)."""
    shown = Q(items__track__in=catalogue_tracks(user=user).values("pk"))
    return (
        Collection.objects.filter(is_published=True)
        .annotate(track_count=Count("items", filter=shown))
        .order_by("title", "pk")
    )


def collection_public_get(*, user: Actor, slug: str) -> tuple[Collection, list[Track]] | None:
    """A published collection and its catalogue tracks for `user` in order (with their facets,
    see `facets_attach`); None when not published."""
    collection = Collection.objects.filter(is_published=True, slug=slug).first()
    if collection is None:
        return None
    tracks = list(
        tracks_for_listing(catalogue_tracks(user=user))
        .filter(collection_items__collection=collection)
        .order_by("collection_items__position")
    )
    facets_attach(tracks)
    return collection, tracks


def tracks_newest(*, user: Actor, limit: int = 6) -> list[Track]:
    """The newest catalogue tracks of `user` (by release date, then when they were added), with
    their facets."""
    tracks = list(
        tracks_for_listing(catalogue_tracks(user=user)).order_by(*search_index.NEWEST_ORDER)[:limit]
    )
    facets_attach(tracks)
    return tracks


def tracks_featured(*, user: Actor, limit: int = 6) -> list[Track]:
    """The catalogue tracks of `user` that open a featured, published collection (its first
    place), by title, with their facets."""
    tracks = list(
        tracks_for_listing(catalogue_tracks(user=user))
        .filter(
            collection_items__position=1,
            collection_items__collection__is_featured=True,
            collection_items__collection__is_published=True,
        )
        .distinct()
        .order_by("title", "pk")[:limit]
    )
    facets_attach(tracks)
    return tracks


def collections_featured(*, user: Actor, limit: int = 6) -> list[Collection]:
    """Featured published collections with `track_count` (collections_public)."""
    return list(collections_public(user=user).filter(is_featured=True)[:limit])


def waveform_svg_points(peaks: Sequence[Any], *, width: int = 800, height: int = 100) -> str:
    """The SVG polygon points of a waveform from the master's peaks: [min, max] pairs in -1..1
    (media.pipeline.waveform_peaks), or plain numbers 0..1 drawn symmetric. "" when none."""
    highs: list[float] = []
    lows: list[float] = []
    for peak in peaks:
        if isinstance(peak, list | tuple) and len(peak) == 2:
            low, high = (float(v) for v in peak)
        elif isinstance(peak, int | float):
            low, high = -abs(float(peak)), abs(float(peak))
        else:
            continue
        if not (math.isfinite(low) and math.isfinite(high)):
            continue
        lows.append(max(-1.0, min(1.0, low)))
        highs.append(max(-1.0, min(1.0, high)))
    if not highs:
        return ""
    middle = height / 2
    step = width / max(1, len(highs) - 1)
    top = [f"{i * step:.1f},{middle - v * middle:.1f}" for i, v in enumerate(highs)]
    bottom = [f"{i * step:.1f},{middle - v * middle:.1f}" for i, v in enumerate(lows)][::-1]
    return " ".join(top + bottom)


def tracks_for_staff(*, query: str = "") -> QuerySet[Track]:
    """Every track (published or not) for the staff list, with its master's ingest state;
    filtered by title or catalogue code (contains)."""
    tracks = Track.objects.select_related("master").order_by("title", "pk")
    query = query.replace("\x00", "").strip()
    if query:
        tracks = tracks.filter(Q(title__icontains=query) | Q(catalogue_code__icontains=query))
    return tracks


def collections_for_staff() -> QuerySet[Collection]:
    """Every collection with its number of tracks."""
    return Collection.objects.annotate(track_count=Count("items")).order_by("title", "pk")
