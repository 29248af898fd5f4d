"""Search benchmark: faceted full-text search over 100,000 generated tracks on PostgreSQL, through
catalog.selectors.track_search and as hand-written SQL doing the same work, in one run.

Run by `make bench` (or `.venv/bin/python bench/search.py`). Creates the database `bench_search`
on the PostgreSQL server of BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres),
migrates it, bulk-inserts the catalogue, runs each query REPEAT times (rotating over QUERIES,
English and Russian, each under its UI language) and drops the database at the end. Prints p50/p99
latency of both and their ratio, p50 and p99 of track_search per language, the slowest queries,
and the load average (on a shared machine milliseconds compare only at a similar load, the ratio
better).

"The same work" is what a /catalog/ page needs: the total, one page of 24 tracks ordered by rank,
and the three facet counts (each with every filter but its own). track_search matches, counts
and orders in the process's search index (catalog/search_index.py, decision 0044), made once per
process and catalogue version: its making is timed apart, before the searches. The anchor is the
hand-written SQL of a database search engine, two statements over GIN indexes the bench makes
for it (the total and the counts over a materialized set of the ids matching the text and range
filters, then the page), given the tsquery of track_search's terms, typo neighbours and prefix.
track_search also loads the page's facets and the facet vocabularies; the raw SQL does not, so
the ratio includes them.

Environment: BENCH_POSTGRES_URL, BENCH_DATABASE (bench_search), BENCH_TRACKS (100000),
BENCH_REPEAT (200), BENCH_KEEP (set: leave the database for EXPLAIN), BENCH_REUSE (set: measure
the database a BENCH_KEEP run left, without making it again).
"""

import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DATABASE = os.environ.get("BENCH_DATABASE", "bench_search")
TRACKS = int(os.environ.get("BENCH_TRACKS", "100000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "200"))

WORDS = [
    "morning",
    "light",
    "city",
    "run",
    "sonata",
    "allegro",
    "river",
    "calm",
    "night",
    "dawn",
    "sunrise",
    "ocean",
    "forest",
    "rain",
    "summer",
    "winter",
    "autumn",
    "spring",
    "dream",
    "journey",
    "hope",
    "motion",
    "pulse",
    "glow",
    "echo",
    "horizon",
    "drift",
    "shadow",
    "silver",
    "golden",
    "velvet",
    "neon",
    "electric",
    "acoustic",
    "gentle",
    "bright",
    "dark",
    "warm",
    "cold",
]
GENRES = [
    "ambient",
    "classical",
    "cinematic",
    "corporate",
    "electronic",
    "folk",
    "jazz",
    "lounge",
    "pop",
    "rock",
    "world",
]
MOODS = [
    "calm",
    "uplifting",
    "dark",
    "happy",
    "sad",
    "tense",
    "romantic",
    "epic",
    "playful",
    "dreamy",
]
INSTRUMENTS = [
    "piano",
    "strings",
    "guitar",
    "synth",
    "drums",
    "bass",
    "flute",
    "brass",
    "choir",
    "harp",
    "organ",
    "percussion",
]

# (query, genres, moods, instruments, bpm_min, bpm_max): faceted searches a visitor would make.
# Russian names of the generated words and facets, so Russian queries have Russian text to find.
RUSSIAN = {
    "morning": "утро",
    "light": "свет",
    "city": "город",
    "ocean": "океан",
    "night": "ночь",
    "rain": "дождь",
    "piano": "фортепиано",
    "calm": "спокойное",
    "ambient": "эмбиент",
    "jazz": "джаз",
}
# (UI language, query, genres, moods, instruments, bpm_min, bpm_max): faceted searches a visitor
# would make, in English and in Russian (the Russian UI orders titles by their Russian ones).
QUERIES = [
    ("en", "morning", ["ambient"], ["calm"], [], 60, 120),
    ("en", "light piano", ["classical", "cinematic"], [], ["piano"], None, None),
    ("en", "city run", [], ["uplifting"], ["drums", "synth"], 110, 140),
    ("en", "ocean", ["ambient", "lounge"], ["dreamy", "calm"], [], None, None),
    ("en", "", ["jazz"], ["happy"], ["piano"], 80, 160),
    ("en", "mornings", [], [], [], None, None),  # a stem, no facet: the widest text match
    ("en", "ocaen", ["ambient"], [], [], None, None),  # a typo
    ("en", "", [], [], [], None, None),  # the whole catalogue, with every facet count
    ("ru", "утро", ["ambient"], ["calm"], [], 60, 120),
    ("ru", "свет фортепиано", ["classical", "cinematic"], [], [], None, None),
    ("ru", "город", [], ["uplifting"], ["drums", "synth"], 110, 140),
    ("ru", "океаны", ["ambient", "lounge"], ["dreamy", "calm"], [], None, None),  # a stem
    ("ru", "ночь дождь", [], ["calm"], [], None, None),
    ("ru", "джаз", [], [], [], None, None),  # a facet's Russian name, no facet chosen
    ("ru", "окен", ["ambient"], [], [], None, None),  # a typo
    ("ru", "", ["jazz"], ["happy"], ["piano"], 80, 160),
]


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def admin(sql: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        connection.execute(sql)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def generate() -> None:
    from django.db import connection

    from backgroundmusic.catalog.models import Genre, Instrument, Mood, Track
    from backgroundmusic.catalog.search_terms import FACET_TERM_LETTERS, facet_term, text_terms
    from backgroundmusic.catalog.services import search_terms_remember
    from backgroundmusic.media.models import Master

    rng = random.Random(42)  # noqa: S311 (test data, not security)
    facets: dict[Any, list[Any]] = {}
    vocabularies: list[tuple[Any, list[str]]] = [
        (Genre, GENRES),
        (Mood, MOODS),
        (Instrument, INSTRUMENTS),
    ]
    for model, slugs in vocabularies:
        facets[model] = model._default_manager.bulk_create(
            [
                model(slug=slug, name_en=slug.title(), name_ru=RUSSIAN.get(slug, slug.title()))
                for slug in slugs
            ]
        )
    started = time.perf_counter()
    vocabulary: set[str] = set()
    batch = 10_000
    for first in range(0, TRACKS, batch):
        tracks = []
        chosen = []
        for number in range(first, min(TRACKS, first + batch)):
            title_words = rng.sample(WORDS, rng.randint(2, 3))
            title = " ".join(title_words).title()
            title_ru = " ".join(RUSSIAN.get(word, word) for word in title_words)
            genres = rng.sample(facets[Genre], rng.randint(1, 2))
            moods = rng.sample(facets[Mood], rng.randint(1, 2))
            instruments = rng.sample(facets[Instrument], rng.randint(1, 3))
            # As catalog.services.search_document_for makes them.
            terms = text_terms(
                title,
                title_ru,
                " ".join(rng.sample(WORDS, 6)),
                *[f"{f.name_en} {f.name_ru}" for f in genres + moods + instruments],
            )
            vocabulary.update(terms)
            document = f" {' '.join(terms)} "
            facet_terms = [
                facet_term(relation, facet.pk)
                for relation, picked in zip(
                    FACET_TERM_LETTERS, (genres, moods, instruments), strict=True
                )
                for facet in sorted(picked, key=lambda facet: facet.pk)
            ]
            search_title = "".join(
                f" {term} " for term in text_terms(title, title_ru, each_once=False)
            )
            tracks.append(
                Track(
                    title=title,
                    title_ru=title_ru,
                    slug=f"track-{number}",
                    catalogue_code=f"BN-{number:06d}",
                    tempo_bpm=rng.randint(60, 180),
                    energy=rng.randint(1, 10),
                    duration_seconds=rng.uniform(60, 360),
                    is_published=rng.random() < 0.95,
                    search_document=document,
                    search_title=search_title,
                    search_facets=f" {' '.join(facet_terms)} ",
                )
            )
            chosen.append((genres, moods, instruments))
        Track.objects.bulk_create(tracks, batch_size=batch)
        Master.objects.bulk_create(
            (
                Master(
                    track=track,
                    sha256=f"{track.pk:064x}",
                    status=Master.Status.READY if rng.random() < 0.97 else Master.Status.FAILED,
                    failure_reason="bench",
                    uploaded_at="2026-01-01T00:00:00Z",
                )
                for track in tracks
            ),
            batch_size=batch,
        )
        for index, relation in enumerate(("genres", "moods", "instruments")):
            through = getattr(Track, relation).through
            column = f"{relation[:-1]}_id"
            through.objects.bulk_create(
                (
                    through(track_id=track.pk, **{column: facet.pk})
                    for track, picked in zip(tracks, chosen, strict=True)
                    for facet in picked[index]
                ),
                batch_size=batch * 3,
            )
    search_terms_remember(vocabulary)
    with connection.cursor() as cursor:
        # The anchor's text and facet matches through GIN indexes, as the hand-written SQL of a
        # database search engine would have them (track_search matches in its own index).
        for name, column in (
            ("catalog_track_search_gin", "search_document"),
            ("catalog_track_facets_gin", "search_facets"),
        ):
            cursor.execute(
                f"CREATE INDEX {name} ON catalog_track USING GIN (to_tsvector('simple'::regconfig,"
                f" COALESCE({column}, ''))) WITH (fastupdate = off)"
            )
        # As autovacuum leaves a table after a bulk load: statistics, visibility map.
        cursor.execute("VACUUM ANALYZE")
    print(f"generated {TRACKS} tracks in {time.perf_counter() - started:.1f} s")


RAW_FILTER = """
  FROM catalog_track t JOIN media_master m ON m.track_id = t.id
 WHERE t.is_published AND m.status = 'ready'
   AND (%(tsquery)s = '' OR to_tsvector('simple'::regconfig, COALESCE(t.search_document, ''))
        @@ to_tsquery('simple'::regconfig, %(tsquery)s))
   AND (%(bpm_min)s::int IS NULL OR t.tempo_bpm >= %(bpm_min)s)
   AND (%(bpm_max)s::int IS NULL OR t.tempo_bpm <= %(bpm_max)s)
"""


def facet_clause(relation: str, skip: str) -> str:
    if relation == skip:
        return ""
    column = relation[:-1]
    # Table and column names come from the constants above; values are bound parameters.
    return (
        f" AND (cardinality(%({relation})s::text[]) = 0 OR m.id IN (SELECT x.track_id "  # noqa: S608
        f"FROM catalog_track_{relation} x JOIN catalog_{column} f ON f.id = x.{column}_id "
        f"WHERE f.slug = ANY(%({relation})s::text[])))"
    )


def raw_statements() -> list[str]:
    """The total and the facet counts in one statement over the matched ids (as track_search
    does), then the page."""
    relations = ("genres", "moods", "instruments")
    every_facet = "".join(facet_clause(r, "") for r in relations)
    selects = ["SELECT 'total', 0, count(*) FROM matched m WHERE true" + every_facet]  # noqa: S608
    for relation in relations:
        column = relation[:-1]
        others = "".join(facet_clause(r, relation) for r in relations)
        # Names from the constants above; values are bound parameters.
        selects.append(
            f"SELECT '{relation}', x.{column}_id, count(*) FROM catalog_track_{relation} x "  # noqa: S608
            f"JOIN matched m ON m.id = x.track_id WHERE true{others} GROUP BY x.{column}_id"
        )
    counts = (
        "WITH matched (id) AS MATERIALIZED (SELECT t.id"
        + RAW_FILTER
        + ") "
        + (" UNION ALL ".join(selects))
    )
    page = (
        "SELECT t.id, t.title, t.slug, ts_rank(to_tsvector('simple'::regconfig, "
        "COALESCE(t.search_document, '')), to_tsquery('simple'::regconfig, "
        "coalesce(nullif(%(tsquery)s, ''), 'x'))) AS rank"
        + RAW_FILTER
        + every_facet.replace("m.id", "t.id")
        + " ORDER BY rank DESC, t.title, t.id LIMIT 24"
    )
    return [counts, page]


def resident_mib() -> float:
    """This process's resident memory (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    reuse = bool(os.environ.get("BENCH_REUSE"))
    if not reuse:
        admin(f"DROP DATABASE IF EXISTS {DATABASE}")
        admin(f"CREATE DATABASE {DATABASE}")
    try:
        os.environ["DATABASE_URL"] = with_database(ADMIN_URL, DATABASE)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django

        django.setup()
        from django.contrib.auth.models import AnonymousUser
        from django.core.management import call_command
        from django.db import connection
        from django.utils import translation

        from backgroundmusic.catalog.selectors import query_words, track_search, word_matches

        call_command("migrate", verbosity=0)
        if not reuse:
            generate()

        from backgroundmusic.catalog.search_index import current_index

        resident_before = resident_mib()
        started = time.perf_counter()
        current_index()
        index_ms = (time.perf_counter() - started) * 1000
        index_mib = resident_mib() - resident_before

        ours: list[float] = []
        totals = []
        for index in range(REPEAT):
            language, query, genres, moods, instruments, bpm_min, bpm_max = QUERIES[
                index % len(QUERIES)
            ]
            with translation.override(language):
                started = time.perf_counter()
                result = track_search(
                    user=AnonymousUser(),
                    query=query,
                    genres=genres,
                    moods=moods,
                    instruments=instruments,
                    bpm_min=bpm_min,
                    bpm_max=bpm_max,
                )
                ours.append((time.perf_counter() - started) * 1000)
            totals.append(result.total)

        statements = raw_statements()
        # The raw SQL is given the tsquery track_search builds (terms, typo neighbours, prefix).
        tsqueries = {
            query: " & ".join(
                "("
                + " | ".join(
                    [f"'{term}'" for term in (*match.own, *match.near)]
                    + ([f"'{match.prefix}':*"] if match.prefix else [])
                )
                + ")"
                for match in word_matches(query_words(query))
            )
            for _language, query, *_rest in QUERIES
        }
        raw: list[float] = []
        raw_totals = []
        with connection.cursor() as cursor:
            for index in range(REPEAT):
                _language, query, genres, moods, instruments, bpm_min, bpm_max = QUERIES[
                    index % len(QUERIES)
                ]
                params = {
                    "tsquery": tsqueries[query],
                    "genres": genres,
                    "moods": moods,
                    "instruments": instruments,
                    "bpm_min": bpm_min,
                    "bpm_max": bpm_max,
                }
                started = time.perf_counter()
                for number, statement in enumerate(statements):
                    cursor.execute(statement, params)
                    rows = cursor.fetchall()
                    if number == 0:
                        raw_totals.append(next(row[2] for row in rows if row[0] == "total"))
                raw.append((time.perf_counter() - started) * 1000)
            cursor.execute(
                "EXPLAIN SELECT count(*) FROM catalog_track WHERE to_tsvector('simple'::regconfig,"
                " COALESCE(search_document, '')) @@ to_tsquery('simple'::regconfig, 'morning:*')"
            )
            uses_index = any("catalog_track_search_gin" in row[0] for row in cursor.fetchall())
        assert totals == raw_totals, "track_search and the raw SQL disagree on the totals"
        connection.close()

        print(f"tracks: {TRACKS}, searches: {REPEAT} (rotating {len(QUERIES)} faceted queries)")
        print(
            f"search index made in {index_ms:.0f} ms (once per process and catalogue version), "
            f"the process {index_mib:.0f} MiB larger"
        )
        print(f"load average at the end (1, 5, 15 min): {os.getloadavg()}")
        print(f"totals per query: {totals[: len(QUERIES)]}")
        print(f"the anchor's text match uses its GIN index: {'yes' if uses_index else 'NO'}")
        ours_p50, ours_p99 = percentile(ours, 0.5), percentile(ours, 0.99)
        raw_p50, raw_p99 = percentile(raw, 0.5), percentile(raw, 0.99)
        by_query = []
        for number, (language, query, *filters) in enumerate(QUERIES):
            times = ours[number :: len(QUERIES)]
            raw_times = raw[number :: len(QUERIES)]
            by_query.append((percentile(times, 0.5), language, query))
            print(
                f"  {language} {query or '(no text)':<16} {filters[:3]!s:<52} "
                f"ours first {times[0]:7.2f} ms, p50 {percentile(times, 0.5):7.2f} ms, "
                f"max {max(times):7.2f} ms; raw p50 {percentile(raw_times, 0.5):7.2f} ms"
            )
        for language in ("en", "ru"):
            times = [
                took
                for index, took in enumerate(ours)
                if QUERIES[index % len(QUERIES)][0] == language
            ]
            print(
                f"track_search {language}: p50 {percentile(times, 0.5):7.2f} ms  "
                f"p99 {percentile(times, 0.99):7.2f} ms"
            )
        slowest = ", ".join(
            f"{language} {query or '(no text)'} {took:.1f} ms"
            for took, language, query in sorted(by_query, reverse=True)[:3]
        )
        print(f"slowest by p50: {slowest}")
        print(f"track_search: p50 {ours_p50:7.2f} ms  p99 {ours_p99:7.2f} ms")
        print(f"raw SQL:      p50 {raw_p50:7.2f} ms  p99 {raw_p99:7.2f} ms")
        print(
            f"ratio ours/raw: p50 {ours_p50 / raw_p50:.2f}×  p99 {ours_p99 / raw_p99:.2f}×"
            f"  (mean {statistics.mean(ours) / statistics.mean(raw):.2f}×)"
        )
    finally:
        if not os.environ.get("BENCH_KEEP"):
            admin(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


if __name__ == "__main__":
    main()
