"""The demo catalogue: recipes, rendering and seeding (short excerpts only; nothing slow here)."""

import hashlib
import wave
from dataclasses import replace
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.utils.text import slugify

from backgroundmusic.catalog.demo import render
from backgroundmusic.catalog.demo.recipes import MIN_SECONDS, RECIPES
from backgroundmusic.catalog.demo.seed import (
    GENRES,
    INSTRUMENTS,
    MOODS,
    PROGRAM_INSTRUMENTS,
    catalogue_seed,
    recipe_instruments,
    track_for_recipe,
    vocabulary_ensure,
)
from backgroundmusic.catalog.models import Genre, Instrument, Mood, Track
from backgroundmusic.media.models import Master

BY_CODE = {recipe.code: recipe for recipe in RECIPES}
# Quick to parse: a short Mozart slow movement; its first 4 bars are 12 quarter notes.
EXCERPT = BY_CODE["BM-0002"]
EXCERPT_MEASURES = 4


def _wav(path: Path) -> tuple[int, int, int, int]:
    with wave.open(str(path), "rb") as wav:
        frames = wav.getnframes()
        return wav.getnchannels(), wav.getsampwidth(), wav.getframerate(), frames


def test_at_least_forty_recipes_with_unique_codes_titles_and_sources():
    assert len(RECIPES) == 42
    codes = [recipe.code for recipe in RECIPES]
    assert codes == [f"BM-{number:04d}" for number in range(1, 43)]
    assert len({recipe.title for recipe in RECIPES}) == len(RECIPES)
    assert len({slugify(recipe.name) for recipe in RECIPES}) == len(RECIPES)
    assert len({recipe.source for recipe in RECIPES}) == len(RECIPES)


def test_every_recipe_plays_at_least_two_minutes_by_its_score_length_and_tempo():
    durations = {recipe.code: recipe.seconds for recipe in RECIPES}
    assert min(durations.values()) >= MIN_SECONDS
    assert durations["BM-0002"] == 150.0  # 150 quarter notes at ♩ = 60
    assert durations["BM-0004"] == pytest.approx(192.857, abs=0.001)  # 270 at 168, twice
    assert sum(durations.values()) / 60 == pytest.approx(120.1, abs=0.05)


@pytest.mark.parametrize("code", ["BM-0002", "BM-0006", "BM-0018"])
def test_recorded_score_length_is_the_scores(code):
    """quarter_length is what music21 reads from the corpus score, repeats stripped."""
    recipe = BY_CODE[code]
    assert float(render.score_for(recipe).highestTime) == recipe.quarter_length


def test_recipe_metadata_is_complete_and_uses_known_facets():
    for recipe in RECIPES:
        assert len(recipe.title) <= 200
        # How the audio was made is for staff (Recipe.production), not the customer's page.
        assert recipe.source not in recipe.description
        assert "SoundFont" not in recipe.description and "music21" not in recipe.description
        assert recipe.source in recipe.production and "SoundFont" in recipe.production
        assert recipe.composer in recipe.description
        assert "MUSWAY STUDIO" in recipe.description
        assert ("played twice" in recipe.description) == (recipe.repeats == 2)
        assert 1 <= recipe.energy <= 10
        assert 20 <= round(recipe.bpm) <= 300
        assert set(recipe.genres) <= set(GENRES) and recipe.genres
        assert set(recipe.moods) <= set(MOODS) and recipe.moods
        assert all(0 <= program <= 127 for program in recipe.programs)
        assert set(recipe_instruments(recipe)) <= set(INSTRUMENTS)
    assert set(PROGRAM_INSTRUMENTS.values()) <= set(INSTRUMENTS)
    assert recipe_instruments(BY_CODE["BM-0001"]) == ["marimba", "strings", "cello"]
    assert BY_CODE["BM-0001"].title == (
        "Morning Courtyard — String Quartet No. 2 in D major, K. 155, for marimba and strings"
    )


def test_an_excerpt_renders_to_a_stereo_wav_of_the_scores_length(tmp_path):
    tmp_path = tmp_path / "cache"
    rendered = render.render(EXCERPT, cache_dir=tmp_path, measures=EXCERPT_MEASURES)
    assert rendered.cached is False
    assert rendered.path.parent == tmp_path
    assert rendered.path.name == f"{render.render_key(EXCERPT, measures=4)}.wav"
    channels, width, rate, frames = _wav(rendered.path)
    assert (channels, width, rate) == (2, 2, 48000)
    # 4 bars of 3/4 = 12 quarter notes at ♩ = 60: 12 s, and the renderer stops at the MIDI's end.
    assert frames / rate == pytest.approx(12.0, abs=0.01)
    assert rendered.seconds == pytest.approx(12.0, abs=0.01)
    assert rendered.musical_key == "A"
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [rendered.path.name, rendered.path.with_suffix(".json").name]
    )


def test_the_same_recipe_renders_the_same_bytes_and_the_cache_is_used(tmp_path):
    first = render.render(EXCERPT, cache_dir=tmp_path / "a", measures=EXCERPT_MEASURES)
    again = render.render(EXCERPT, cache_dir=tmp_path / "b", measures=EXCERPT_MEASURES)
    assert again.cached is False
    assert hashlib.sha256(first.path.read_bytes()).digest() == (
        hashlib.sha256(again.path.read_bytes()).digest()
    )
    modified = first.path.stat().st_mtime_ns
    cached = render.render(EXCERPT, cache_dir=tmp_path / "a", measures=EXCERPT_MEASURES)
    assert cached == replace(first, cached=True)
    assert first.path.stat().st_mtime_ns == modified


def test_a_changed_recipe_has_another_cache_key():
    key = render.render_key(EXCERPT)
    assert render.render_key(EXCERPT) == key
    assert render.render_key(EXCERPT, measures=4) != key
    assert render.render_key(replace(EXCERPT, bpm=61)) != key
    assert render.render_key(replace(EXCERPT, programs=(12,))) != key
    # Metadata does not change the sound, so it does not change the key.
    assert render.render_key(replace(EXCERPT, name="Another name", energy=9)) == key


def test_the_arrangement_sets_programs_and_repeats(tmp_path):
    import io

    import pretty_midi

    twice = replace(EXCERPT, programs=(12, 46), repeats=2)
    score = render.score_for(twice, measures=EXCERPT_MEASURES)
    midi = pretty_midi.PrettyMIDI(io.BytesIO(render.midi_for(twice, score)))
    assert [instrument.program for instrument in midi.instruments] == [12, 46, 12, 46]
    once = pretty_midi.PrettyMIDI(
        io.BytesIO(render.midi_for(EXCERPT, render.score_for(EXCERPT, measures=4)))
    )
    for doubled, single in zip(midi.instruments, once.instruments, strict=True):
        assert len(doubled.notes) == 2 * len(single.notes)
        second = sorted(doubled.notes, key=lambda note: note.start)[len(single.notes)]
        assert second.start == pytest.approx(12.0 + min(n.start for n in single.notes), abs=0.01)


@pytest.mark.django_db
def test_seeding_makes_a_ready_published_track_then_skips_it(tmp_path):
    lines: list[str] = []
    report = catalogue_seed(
        cache_dir=tmp_path,
        recipes=[EXCERPT],
        workers=1,
        measures=EXCERPT_MEASURES,
        say=lines.append,
    )
    assert report.failed == {}
    assert report.created == ["BM-0002"]
    assert report.rendered == 1
    track = Track.objects.get(catalogue_code="BM-0002")
    assert track.title == EXCERPT.title
    assert track.slug == "quiet-library"
    assert track.composer == "Wolfgang Amadeus Mozart"
    assert track.rights_holder == "MUSWAY STUDIO"
    assert track.description == EXCERPT.description
    assert track.tempo_bpm == 60
    assert track.musical_key == "A"
    assert track.energy == 3
    assert track.is_published is True
    assert track.is_instrumental is True
    assert track.duration_seconds == pytest.approx(12.0, abs=0.01)
    assert [genre.slug for genre in track.genres.all()] == ["classical"]
    assert sorted(mood.slug for mood in track.moods.all()) == ["calm", "reflective"]
    assert [instrument.slug for instrument in track.instruments.all()] == ["piano"]
    assert sorted(tag.name for tag in track.tags.all()) == ["focus", "study"]
    master = Master.objects.get(track=track)
    assert master.status == Master.Status.READY
    kinds = sorted(master.renditions.values_list("kind", flat=True))
    assert kinds == ["aac", "flac", "mp3_320", "opus", "preview"]
    assert (master.sample_rate, master.bit_depth) == (48_000, 16)  # the FLAC is as the master
    assert Genre.objects.count() == len(GENRES)
    assert Mood.objects.count() == len(MOODS)
    assert Instrument.objects.count() == len(INSTRUMENTS)
    assert lines[0].startswith("[0/1] ........................ 1 demo tracks to render and ingest")
    assert lines[-1].startswith("[1/1] ######################## BM-0002 12 s of audio rendered in")

    again = catalogue_seed(
        cache_dir=tmp_path, recipes=[EXCERPT], workers=1, measures=EXCERPT_MEASURES
    )
    assert (again.created, again.skipped, again.rendered) == ([], ["BM-0002"], 0)
    assert again.lossless_added == []
    assert Track.objects.count() == 1
    assert Master.objects.count() == 1

    # A catalogue seeded before the lossless rendition existed gets it on the next run.
    flac = master.renditions.get(kind="flac")
    flac_bytes = default_storage.open(flac.storage_key).read()
    default_storage.delete(flac.storage_key)
    flac.delete()
    lines.clear()
    upgraded = catalogue_seed(cache_dir=tmp_path, recipes=[EXCERPT], workers=1, say=lines.append)
    assert (upgraded.skipped, upgraded.lossless_added, upgraded.rendered) == (
        ["BM-0002"],
        ["BM-0002"],
        0,
    )
    assert lines == [
        "[1/1] BM-0002 lossless rendition made",
        "[1/1] ######################## all demo tracks are ready",
    ]
    assert default_storage.open(master.renditions.get(kind="flac").storage_key).read() == (
        flac_bytes
    )


@pytest.mark.django_db
def test_seeding_finishes_a_track_whose_master_is_missing_from_the_cache(tmp_path):
    """A run killed after the track was made: the next run uploads the cached WAV."""
    rendered = render.render(EXCERPT, cache_dir=tmp_path, measures=4)
    vocabulary_ensure()
    track_for_recipe(recipe=EXCERPT, rendered=rendered)
    assert not Master.objects.exists()
    report = catalogue_seed(cache_dir=tmp_path, recipes=[EXCERPT], workers=1, measures=4)
    assert (report.created, report.rendered) == (["BM-0002"], 0)
    assert Track.objects.count() == 1
    assert Master.objects.get().status == Master.Status.READY


@pytest.mark.django_db
def test_the_command_refuses_outside_embedded_mode_and_bad_options(settings, tmp_path):
    tmp_path = tmp_path / "cache"
    tmp_path.mkdir()
    settings.EMBEDDED = False
    with pytest.raises(CommandError, match="only runs in embedded mode"):
        call_command("seed_catalog", "--cache-dir", str(tmp_path))
    settings.EMBEDDED = True
    with pytest.raises(CommandError, match="--workers must be at least 1"):
        call_command("seed_catalog", "--workers", "0", "--cache-dir", str(tmp_path))
    with pytest.raises(CommandError, match="--limit must be at least 1"):
        call_command("seed_catalog", "--limit", "0", "--cache-dir", str(tmp_path))
    assert Track.objects.count() == 0
    assert list(tmp_path.iterdir()) == []
