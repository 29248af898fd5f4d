"""The catalogue's search index, held in each process's memory (decision 0044).

`track_search` matches, counts and orders here; the database gives the rows of the page. The
index is made from the rows the catalogue services keep (`Track.search_document`,
`search_title`, `search_facets`, the ranges and the sort columns) and is kept under the
catalogue's version token (catalog/page_cache.py): a process whose index is of an older token
makes it again at its next search, from the database alone, so every process (app servers,
workers, any number of machines) answers from the same rows. Who may see which tracks is not
decided here: an audience's tracks are asked of `selectors.catalogue_tracks` (the one rule) once
per index and audience, and the page's rows are read through it again.

Positions, not ids: track i of the index is `ids[i]` (ascending); a set of tracks is a boolean
array over positions, and a term's tracks are the sorted positions holding it.
"""

import logging
import threading
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connections
from django.db.models import F, Value, Window
from django.db.models.functions import Coalesce, NullIf, RowNumber

from backgroundmusic.catalog import page_cache, search_terms
from backgroundmusic.catalog.models import Track

logger = logging.getLogger(__name__)

Mask = npt.NDArray[np.bool_]
Positions = npt.NDArray[np.int32]

# The sort orders of decision 0037 the index keeps, each a permutation of positions. Titles sort
# in the database's collation (as the pages always did), so the database numbers the rows in
# those orders; the orders by tempo and duration break ties by them.
TITLE_ORDERS: dict[str, list[Any]] = {
    "en": [F("title"), "pk"],
    "ru": [Coalesce(NullIf("title_ru", Value("")), "title"), "pk"],
}
NEWEST_ORDER: list[Any] = [F("release_date").desc(nulls_last=True), "-created_at", "-pk"]
RELATIONS = tuple(search_terms.FACET_TERM_LETTERS)


def _positions(values: Iterable[int]) -> Positions:
    return np.fromiter(values, dtype=np.int32)


def _vocabulary_with_prefix(vocabulary: list[str], prefix: str) -> list[str]:
    start = bisect_left(vocabulary, prefix)
    end = bisect_left(vocabulary, prefix + "\uffff")
    return vocabulary[start:end]


@dataclass(frozen=True)
class WordMatch:
    """What one query word matches (selectors.word_matches makes them): its own terms, their
    neighbours one edit away, and the terms that begin with `prefix`."""

    own: tuple[str, ...]
    near: tuple[str, ...]
    prefix: str | None


@dataclass
class SearchIndex:
    version: str
    ids: npt.NDArray[np.int64]
    document: dict[str, Positions]
    document_vocabulary: list[str]
    # A title or composer term: the positions holding it, and how often each of them holds it.
    title: dict[str, Positions]
    title_counts: dict[str, npt.NDArray[np.int32]]
    title_vocabulary: list[str]
    # Relation -> facet id -> positions of the tracks that have it.
    facets: dict[str, dict[int, Positions]]
    ranges: dict[str, npt.NDArray[np.float64]]
    # Sort name (with its language where titles break ties) -> positions in that order.
    orders: dict[str, Positions]
    title_rank: dict[str, npt.NDArray[np.int32]]
    audiences: dict[str, Mask] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.ids)

    def audience(self, key: str, ids: Callable[[], Iterable[int]]) -> Mask:
        """The tracks of the audience `key`; `ids` gives them the first time it is asked."""
        mask = self.audiences.get(key)
        if mask is None:
            mask = np.isin(self.ids, np.fromiter(ids(), dtype=np.int64))
            self.audiences[key] = mask
        return mask

    def _any(self, postings: dict[str, Positions], terms: Iterable[str]) -> Mask:
        mask = np.zeros(self.size, dtype=np.bool_)
        for term in terms:
            found = postings.get(term)
            if found is not None:
                mask[found] = True
        return mask

    def text(self, words: Sequence[WordMatch]) -> Mask:
        """The tracks holding, for every word, one of its terms, neighbours or prefixed terms."""
        mask = np.ones(self.size, dtype=np.bool_)
        for word in words:
            terms = [*word.own, *word.near]
            if word.prefix:
                terms += _vocabulary_with_prefix(self.document_vocabulary, word.prefix)
            mask &= self._any(self.document, terms)
        return mask

    def relevance(self, words: Sequence[WordMatch]) -> npt.NDArray[np.int32]:
        """Per word: 4 when a title or the composer holds it as typed, else 2 when they hold it
        through a typo or a prefix; 2 more when the track holds it as typed anywhere; and 1 for
        each time a title or the composer has it as typed."""
        score = np.zeros(self.size, dtype=np.int32)
        for word in words:
            as_typed = self._any(self.title, word.own)
            loosely = [*word.near]
            if word.prefix:
                loosely += _vocabulary_with_prefix(self.title_vocabulary, word.prefix)
            score += np.where(as_typed, 4, np.where(self._any(self.title, loosely), 2, 0)).astype(
                np.int32
            )
            score += np.where(self._any(self.document, word.own), 2, 0).astype(np.int32)
            for term in word.own:
                if term in self.title:
                    score[self.title[term]] += self.title_counts[term]
        return score

    def in_range(self, name: str, low: float | None, high: float | None) -> Mask | None:
        """The tracks whose `name` lies within the bounds given (none: no filter)."""
        if low is None and high is None:
            return None
        values = self.ranges[name]
        mask = ~np.isnan(values)
        if low is not None:
            mask &= values >= low
        if high is not None:
            mask &= values <= high
        return mask

    def with_facets(self, relation: str, facet_ids: Sequence[int]) -> Mask:
        mask = np.zeros(self.size, dtype=np.bool_)
        postings = self.facets[relation]
        for facet_id in facet_ids:
            found = postings.get(facet_id)
            if found is not None:
                mask[found] = True
        return mask

    def facet_counts(
        self, base: Mask, chosen: dict[str, Mask], *, with_counts: bool = True
    ) -> tuple[Mask, dict[str, dict[int, int]]]:
        """The tracks matching everything, and (`with_counts`) per relation {facet id: tracks}
        where each facet's count applies every choice but its own relation's."""
        matched = base.copy()
        for mask in chosen.values():
            matched &= mask
        counts: dict[str, dict[int, int]] = {}
        for relation in RELATIONS if with_counts else ():
            others = base.copy()
            for other, mask in chosen.items():
                if other != relation:
                    others &= mask
            counts[relation] = {
                facet_id: count
                for facet_id, positions in self.facets[relation].items()
                if (count := int(np.count_nonzero(others[positions])))
            }
        return matched, counts

    def page(
        self,
        matched: Mask,
        *,
        sort: str,
        language: str,
        score: npt.NDArray[np.int32] | None,
        start: int,
        size: int,
    ) -> list[int]:
        """The ids of tracks `start` to `start + size` of `matched` in the order `sort`: by
        `score` (then title) when given, "relevance" without a score by title."""
        ordered: npt.NDArray[np.integer[Any]]
        if score is not None:
            found = np.flatnonzero(matched)
            ordered = found[np.lexsort((self.title_rank[language][found], -score[found]))]
        else:
            name = "title" if sort == "relevance" else sort
            order = self.orders[name if name == "newest" else f"{name}:{language}"]
            ordered = order[matched[order]]
        return [int(pk) for pk in self.ids[ordered[start : start + size]]]


def index_build(version: str) -> SearchIndex:
    """The index of every track as the database holds it now, under `version`: one statement,
    so the rows and their places in each order come from one snapshot."""
    rank_columns = {
        f"place_by_title_{language}": Window(RowNumber(), order_by=ordering)
        for language, ordering in TITLE_ORDERS.items()
    }
    rank_columns["place_by_newest"] = Window(RowNumber(), order_by=NEWEST_ORDER)
    rows = list(
        Track.objects.annotate(**rank_columns)
        .order_by("pk")
        .values_list(
            "pk",
            "search_document",
            "search_title",
            "search_facets",
            "tempo_bpm",
            "energy",
            "duration_seconds",
            *rank_columns,
        )
    )
    ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    document: dict[str, list[int]] = defaultdict(list)
    title: dict[str, list[tuple[int, int]]] = defaultdict(list)
    facets: dict[str, dict[int, list[int]]] = {
        relation: defaultdict(list) for relation in RELATIONS
    }
    relation_of = {letter: relation for relation, letter in search_terms.FACET_TERM_LETTERS.items()}
    for position, (_pk, terms, title_terms, facet_terms, *_rest) in enumerate(rows):
        for term in set(terms.split()):
            document[term].append(position)
        for term, count in Counter(title_terms.split()).items():
            title[term].append((position, count))
        for term in facet_terms.split():
            facets[relation_of[term[0]]][int(term[1:])].append(position)

    def column(number: int) -> npt.NDArray[np.float64]:
        return np.array(
            [np.nan if row[number] is None else float(row[number]) for row in rows],
            dtype=np.float64,
        )

    ranges = {"tempo_bpm": column(4), "energy": column(5), "duration_seconds": column(6)}
    title_rank = {
        language: (column(7 + number) - 1).astype(np.int32)
        for number, language in enumerate(TITLE_ORDERS)
    }
    orders = {
        f"title:{language}": np.argsort(rank).astype(np.int32)
        for language, rank in title_rank.items()
    }
    orders["newest"] = np.argsort(column(7 + len(TITLE_ORDERS))).astype(np.int32)
    for name, values in (("bpm", ranges["tempo_bpm"]), ("duration", ranges["duration_seconds"])):
        # Ascending, tracks without a value last, then by title (and id) in each language.
        keys = np.where(np.isnan(values), np.inf, values)
        for language, rank in title_rank.items():
            orders[f"{name}:{language}"] = np.lexsort((rank, keys)).astype(np.int32)
    return SearchIndex(
        version=version,
        ids=ids,
        document={term: _positions(found) for term, found in document.items()},
        document_vocabulary=sorted(document),
        title={
            term: _positions(position for position, _count in found)
            for term, found in title.items()
        },
        title_counts={
            term: np.fromiter((count for _position, count in found), dtype=np.int32)
            for term, found in title.items()
        },
        title_vocabulary=sorted(title),
        facets={
            relation: {facet_id: _positions(found) for facet_id, found in by_id.items()}
            for relation, by_id in facets.items()
        },
        ranges=ranges,
        orders=orders,
        title_rank=title_rank,
    )


# From this many tracks a process keeps answering from its index while it makes the next one in
# a thread (about 1.8 s at 100,000 tracks, bench/search.py), so a catalogue change never makes
# a search wait; a smaller catalogue is made again at once (about 0.1 s at 5,000), and then
# every search sees every change at once.
MADE_IN_THE_BACKGROUND_FROM = 20_000

_current: SearchIndex | None = None
_building = threading.Lock()
_making: threading.Thread | None = None
_starting = threading.Lock()


def current_index() -> SearchIndex:
    """This process's index of the catalogue as of its version token now, made if it is of
    another token (once per process and token: threads wait for the one making it). A large
    catalogue's index of an older token answers until the thread making the new one is done:
    its page rows are read through `catalogue_tracks` all the same, so nobody is shown a track
    they may no longer see, and the counts are at most one index old."""
    version = page_cache.catalogue_version()
    index = _current
    if index is not None and index.version == version:
        return index
    if index is not None and index.size >= MADE_IN_THE_BACKGROUND_FROM:
        _make_in_the_background(version)
        return index
    with _building:
        return _make(version)


def _make(version: str) -> SearchIndex:
    """Under _building: the index of `version`, made unless the current one is of it."""
    global _current
    index = _current
    if index is None or index.version != version:
        index = index_build(version)
        _current = index
    return index


def _make_in_the_background(version: str) -> None:
    global _making
    with _starting:
        if _making is not None and _making.is_alive():
            return  # one at a time; the next search after it asks for a newer token again
        _making = threading.Thread(target=_make_apart, args=(version,), daemon=True)
        _making.start()


def _make_apart(version: str) -> None:
    try:
        with _building:
            _make(version)
    except Exception:
        logger.exception("making the search index failed; the previous one still answers")
    finally:
        # The thread's own database connection (each thread has one).
        connections.close_all()
