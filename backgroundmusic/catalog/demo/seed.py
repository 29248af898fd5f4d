"""Seeding the demo catalogue: render every recipe (cached) and feed it through ingest.

`catalogue_seed` hands the recipes whose tracks are not ready yet to a pool of worker
processes; each worker renders one recipe (render.render, cached in var/demo-audio/), makes its
track through the catalogue services and gives the WAV to the same pipeline as an upload
(media.services.master_upload, then master_ingest right there, so both cores render and
ingest). It is idempotent and survives being killed: a track whose master is ready is skipped
without rendering (given the lossless rendition first when it was ingested before there was
one); a track made by a run that stopped early gets its master now; a master left uploaded or
half-processed is ingested again.
"""

import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path

from django.utils.text import slugify

from backgroundmusic.catalog import services as catalogue
from backgroundmusic.catalog.demo.collections import collections_ensure
from backgroundmusic.catalog.demo.recipes import RECIPES, Recipe
from backgroundmusic.catalog.demo.render import Rendered, render
from backgroundmusic.catalog.models import Genre, Instrument, Mood, Track
from backgroundmusic.core.errors import DomainError

# Facet vocabularies the recipes use: slug → (English, Russian).
GENRES: dict[str, tuple[str, str]] = {
    "classical": ("Classical", "Классика"),
    "chamber": ("Chamber music", "Камерная музыка"),
    "baroque": ("Baroque", "Барокко"),
    "early-music": ("Early music", "Старинная музыка"),
    "romantic": ("Romantic", "Романтизм"),
    "cinematic": ("Cinematic", "Кинематографичная"),
    "ambient": ("Ambient", "Эмбиент"),
    "lounge": ("Lounge", "Лаунж"),
    "acoustic": ("Acoustic", "Акустическая"),
    "folk": ("Folk", "Фолк"),
    "ragtime": ("Ragtime", "Регтайм"),
    "corporate": ("Corporate", "Корпоративная"),
}
MOODS: dict[str, tuple[str, str]] = {
    "calm": ("Calm", "Спокойное"),
    "reflective": ("Reflective", "Задумчивое"),
    "tender": ("Tender", "Нежное"),
    "dreamy": ("Dreamy", "Мечтательное"),
    "melancholic": ("Melancholic", "Меланхоличное"),
    "elegant": ("Elegant", "Изящное"),
    "playful": ("Playful", "Игривое"),
    "uplifting": ("Uplifting", "Воодушевляющее"),
    "festive": ("Festive", "Праздничное"),
    "energetic": ("Energetic", "Энергичное"),
    "dramatic": ("Dramatic", "Драматичное"),
    "mysterious": ("Mysterious", "Таинственное"),
}
INSTRUMENTS: dict[str, tuple[str, str]] = {
    "piano": ("Piano", "Фортепиано"),
    "electric-piano": ("Electric piano", "Электропиано"),
    "harpsichord": ("Harpsichord", "Клавесин"),
    "organ": ("Organ", "Орган"),
    "accordion": ("Accordion", "Аккордеон"),
    "celesta": ("Celesta", "Челеста"),
    "vibraphone": ("Vibraphone", "Вибрафон"),
    "marimba": ("Marimba", "Маримба"),
    "xylophone": ("Xylophone", "Ксилофон"),
    "kalimba": ("Kalimba", "Калимба"),
    "guitar": ("Guitar", "Гитара"),
    "double-bass": ("Double bass", "Контрабас"),
    "violin": ("Violin", "Скрипка"),
    "viola": ("Viola", "Альт"),
    "cello": ("Cello", "Виолончель"),
    "strings": ("Strings", "Струнные"),
    "harp": ("Harp", "Арфа"),
    "trumpet": ("Trumpet", "Труба"),
    "horn": ("French horn", "Валторна"),
    "trombone": ("Trombone", "Тромбон"),
    "tuba": ("Tuba", "Туба"),
    "brass": ("Brass", "Медные духовые"),
    "flute": ("Flute", "Флейта"),
    "recorder": ("Recorder", "Блокфлейта"),
    "oboe": ("Oboe", "Гобой"),
    "clarinet": ("Clarinet", "Кларнет"),
    "bassoon": ("Bassoon", "Фагот"),
    "synthesizer": ("Synthesizer", "Синтезатор"),
}
# General MIDI program → instrument facet.
PROGRAM_INSTRUMENTS: dict[int, str] = {
    0: "piano",
    3: "piano",
    4: "electric-piano",
    6: "harpsichord",
    8: "celesta",
    11: "vibraphone",
    12: "marimba",
    13: "xylophone",
    19: "organ",
    21: "accordion",
    24: "guitar",
    25: "guitar",
    32: "double-bass",
    40: "violin",
    41: "viola",
    42: "cello",
    45: "strings",
    46: "harp",
    48: "strings",
    56: "trumpet",
    57: "trombone",
    58: "tuba",
    60: "horn",
    61: "brass",
    68: "oboe",
    70: "bassoon",
    71: "clarinet",
    73: "flute",
    74: "recorder",
    88: "synthesizer",
    89: "synthesizer",
    108: "kalimba",
}

Say = Callable[[str], None]


@dataclass
class SeedReport:
    created: list[str] = field(default_factory=list)  # codes ingested in this run
    skipped: list[str] = field(default_factory=list)  # codes already ready
    lossless_added: list[str] = field(default_factory=list)  # ready, given their FLAC now
    failed: dict[str, str] = field(default_factory=dict)  # code → reason
    descriptions_refreshed: list[str] = field(default_factory=list)  # codes
    collections_made: list[str] = field(default_factory=list)  # addresses (slugs)
    rendered: int = 0  # WAVs rendered in this run (the rest came from the cache)
    audio_seconds: float = 0.0  # length of the audio ingested in this run
    ingest_seconds: float = 0.0  # wall time spent in ingest (this process)
    total_seconds: float = 0.0


def recipe_instruments(recipe: Recipe) -> list[str]:
    """The instrument facets of a recipe, in the order of its programs, each once."""
    return list(dict.fromkeys(PROGRAM_INSTRUMENTS[program] for program in recipe.programs))


def vocabulary_ensure() -> None:
    """Creates the genres, moods and instruments the recipes use, when missing."""
    for kind, model, names in (
        ("genre", Genre, GENRES),
        ("mood", Mood, MOODS),
        ("instrument", Instrument, INSTRUMENTS),
    ):
        present = set(model.objects.values_list("slug", flat=True))
        for slug, (name_en, name_ru) in names.items():
            if slug not in present:
                catalogue.facet_create(
                    actor=None, kind=kind, slug=slug, name_en=name_en, name_ru=name_ru
                )


def track_for_recipe(*, recipe: Recipe, rendered: Rendered) -> Track:
    """The recipe's track (made on the first call, published; the same track afterwards)."""
    track = Track.objects.filter(catalogue_code=recipe.code).first()
    if track is not None:
        return track
    return catalogue.track_create(
        actor=None,
        title=recipe.title,
        title_ru=recipe.title_ru,
        slug=slugify(recipe.name),
        catalogue_code=recipe.code,
        description=recipe.description,
        description_ru=recipe.description_ru,
        composer=recipe.composer,  # the arrangement is named in the description
        genres=recipe.genres,
        moods=recipe.moods,
        instruments=recipe_instruments(recipe),
        tags=recipe.tag_pairs,
        tempo_bpm=round(recipe.bpm),
        musical_key=rendered.musical_key,
        energy=recipe.energy,
        is_instrumental=True,
        is_published=True,
    )


def _legacy_description(recipe: Recipe) -> str:
    """The description earlier seedings wrote: the recipe's, then how the audio was rendered,
    which belongs to the staff page (Recipe.production)."""
    return (
        f"{recipe.description} Rendered from the public-domain score in the music21 corpus "
        f"({recipe.source}) through a General MIDI SoundFont."
    )


def descriptions_refresh(*, recipes: Sequence[Recipe]) -> list[str]:
    """Gives the demo tracks that still carry the description of an earlier seeding the
    recipe's description; a description staff have edited is left alone. Returns their codes;
    one query when there is none to change."""
    legacy = {recipe.code: recipe for recipe in recipes}
    stale = Track.objects.filter(
        catalogue_code__in=list(legacy),
        description__in=[_legacy_description(recipe) for recipe in recipes],
    )
    refreshed = []
    for track in stale:
        recipe = legacy[track.catalogue_code]
        if track.description == _legacy_description(recipe):
            catalogue.track_update(actor=None, track=track, description=recipe.description)
            refreshed.append(track.catalogue_code)
    return refreshed


def _curate(report: "SeedReport", recipes: Sequence[Recipe]) -> None:
    """The demo texts and collections, once the tracks are there."""
    report.descriptions_refreshed = descriptions_refresh(recipes=recipes)
    report.collections_made = collections_ensure()


def _is_ready(code: str) -> bool:
    from backgroundmusic.media.models import Master

    return Master.objects.filter(track__catalogue_code=code, status=Master.Status.READY).exists()


def recipe_ingest(*, recipe: Recipe, rendered: Rendered) -> str:
    """Makes the recipe's track, uploads its WAV as the master and runs ingest here and now.
    Returns "" when the master is ready, else the reason it is not."""
    from backgroundmusic.media import services as media
    from backgroundmusic.media.models import Master

    track = track_for_recipe(recipe=recipe, rendered=rendered)
    master = Master.objects.filter(track=track).first()
    if master is None or master.status == Master.Status.FAILED:
        master = media.master_upload(
            source=rendered.path,
            actor=None,
            track=track,
            source_name=f"{recipe.code}.wav",
        )
    done = media.master_ingest(master_id=master.pk)
    if done is None:
        return "the master disappeared during ingest"
    if done.status != Master.Status.READY:
        return done.failure_reason or f"ingest left the master {done.status}"
    return ""


def lossless_complete(*, codes: Sequence[str], say: Say) -> list[str]:
    """Gives the ready tracks of `codes` whose masters were ingested before the lossless
    rendition existed their FLAC (media.services.master_lossless_add); returns their codes. One
    query when there is none to make."""
    from backgroundmusic.media import selectors
    from backgroundmusic.media import services as media

    missing = list(selectors.masters_missing_lossless().filter(track__catalogue_code__in=codes))
    made: list[str] = []
    for number, master in enumerate(missing, start=1):
        code = master.track.catalogue_code if master.track else master.sha256[:12]
        try:
            rendition = media.master_lossless_add(master_id=master.pk)
        except DomainError as refused:
            say(f"[{number}/{len(missing)}] {code} lossless rendition FAILED: {refused.message}")
            continue
        if rendition is not None:
            made.append(code)
            say(f"[{number}/{len(missing)}] {code} lossless rendition made")
    return made


@dataclass(frozen=True)
class Outcome:
    """What became of one recipe in this run."""

    code: str
    reason: str = ""  # empty when the track is ready (or, without ingest, the WAV is cached)
    cached: bool = False  # the WAV came from the cache
    audio_seconds: float = 0.0
    render_seconds: float = 0.0
    ingest_seconds: float = 0.0


def recipe_make(
    *, recipe: Recipe, cache_dir: Path, measures: int | None = None, ingest: bool = True
) -> Outcome:
    """Renders one recipe (or takes it from the cache) and, with `ingest`, makes its track ready.
    Never raises for one bad recipe: the reason is in the outcome."""
    started = time.monotonic()
    try:
        rendered = render(recipe, cache_dir=cache_dir, measures=measures)
    except Exception as error:
        return Outcome(code=recipe.code, reason=f"rendering failed: {error!r}")
    rendered_at = time.monotonic()
    outcome = Outcome(
        code=recipe.code,
        cached=rendered.cached,
        audio_seconds=rendered.seconds,
        render_seconds=rendered_at - started,
    )
    if not ingest:
        return outcome
    try:
        reason = recipe_ingest(recipe=recipe, rendered=rendered)
    except DomainError as refused:
        reason = refused.message
    except Exception as error:
        reason = f"ingest failed: {error!r}"
    return replace(outcome, reason=reason, ingest_seconds=time.monotonic() - rendered_at)


def _bar(done: int, total: int, width: int = 24) -> str:
    filled = round(width * done / total) if total else width
    return "#" * filled + "." * (width - filled)


def catalogue_seed(
    *,
    cache_dir: Path,
    recipes: Sequence[Recipe] = RECIPES,
    workers: int = 2,
    ingest: bool = True,
    measures: int | None = None,
    say: Say = lambda line: None,
) -> SeedReport:
    """Renders and ingests every recipe whose track is not ready; see the module docstring.

    `workers` processes each render and ingest one recipe at a time (1: all in this process, no
    pool); `ingest=False` only fills the cache; `measures` cuts every score to its first bars.
    `say` gets one progress line per finished recipe (the command writes them to stderr).
    """
    started = time.monotonic()
    report = SeedReport()
    pending: list[Recipe] = []
    for recipe in recipes:
        if ingest and _is_ready(recipe.code):
            report.skipped.append(recipe.code)
        else:
            pending.append(recipe)
    total = len(recipes)
    done = len(report.skipped)
    if report.skipped:
        report.lossless_added = lossless_complete(codes=report.skipped, say=say)
    if not pending:
        say(f"[{total}/{total}] {_bar(total, total)} all demo tracks are ready")
        _curate(report, recipes)
        report.total_seconds = time.monotonic() - started
        return report
    if ingest:
        vocabulary_ensure()
    say(
        f"[{done}/{total}] {_bar(done, total)} {len(pending)} demo tracks to "
        f"{'render and ingest' if ingest else 'render'} in {workers} "
        f"process{'es' if workers > 1 else ''}; rendered audio is cached in {cache_dir}"
    )
    for outcome in _outcomes(
        pending, cache_dir=cache_dir, workers=workers, measures=measures, ingest=ingest
    ):
        done += 1
        report.rendered += 0 if outcome.cached or outcome.render_seconds == 0 else 1
        report.ingest_seconds += outcome.ingest_seconds
        line = f"[{done}/{total}] {_bar(done, total)} {outcome.code}"
        if outcome.reason:
            report.failed[outcome.code] = outcome.reason
            say(f"{line} FAILED: {outcome.reason}")
            continue
        report.created.append(outcome.code)
        report.audio_seconds += outcome.audio_seconds
        source = (
            "from the cache" if outcome.cached else f"rendered in {outcome.render_seconds:.0f} s"
        )
        ingested = f", ingested in {outcome.ingest_seconds:.0f} s" if ingest else ""
        say(f"{line} {outcome.audio_seconds:.0f} s of audio {source}{ingested}")
    if ingest:
        _curate(report, recipes)
    else:
        report.created.clear()
    report.total_seconds = time.monotonic() - started
    return report


def _outcomes(
    recipes: Sequence[Recipe],
    *,
    cache_dir: Path,
    workers: int,
    measures: int | None,
    ingest: bool,
) -> Iterator[Outcome]:
    """Each recipe's outcome, in the order they finish."""
    if workers <= 1:
        for recipe in recipes:
            yield recipe_make(recipe=recipe, cache_dir=cache_dir, measures=measures, ingest=ingest)
        return
    from backgroundmusic.catalog.demo import worker

    # Spawned, not forked: a forked worker would share this process's database connection.
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=get_context("spawn"), initializer=worker.setup
    ) as pool:
        futures: dict[Future[object], str] = {
            pool.submit(
                worker.make, recipe.code, cache_dir=cache_dir, measures=measures, ingest=ingest
            ): recipe.code
            for recipe in recipes
        }
        for future in as_completed(futures):
            error = future.exception()
            result = future.result() if error is None else None
            if isinstance(result, Outcome):
                yield result
            else:
                yield Outcome(code=futures[future], reason=f"the worker failed: {error!r}")
