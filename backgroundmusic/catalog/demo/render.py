"""Rendering one demo recipe to a WAV file: music21 score → MIDI → General MIDI SoundFont.

A recipe (recipes.Recipe) names a public-domain score in music21's corpus, the General MIDI
program of each part, a tempo and how many times the piece is played. The score's own tempo marks
are replaced by the recipe's, every part is given the recipe's instrument (pretty_midi), and the
MIDI is rendered by `midirenderer` through TimGM6mb.sf2, the SoundFont that ships inside
pretty_midi. The same recipe, the same library versions and the same SoundFont give the same
bytes, so the result is cached under a hash of all of them (`render_key`): a second run renders
nothing.

Everything here runs in worker processes (seed.py uses a process pool): plain functions over
plain values, no Django.
"""

import hashlib
import io
import json
import os
import tempfile
import warnings
from dataclasses import asdict, dataclass
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from backgroundmusic.catalog.demo.recipes import Recipe

if TYPE_CHECKING:
    from music21.stream import Score

# Bump when the rendering below changes in a way that changes the bytes.
RENDER_VERSION = 1
# The keys of catalog.models.MusicalKey, by pitch class.
_KEY_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


@dataclass(frozen=True)
class Rendered:
    """A rendered recipe: the WAV in the cache and what the score told us."""

    code: str
    path: Path
    seconds: float  # length of the WAV, the SoundFont's release tail included
    musical_key: str  # a catalog.models.MusicalKey value, analysed by music21
    cached: bool  # True when nothing had to be rendered


def soundfont_path() -> Path:
    import pretty_midi

    return Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"


@cache
def _soundfont() -> tuple[bytes, str]:
    data = soundfont_path().read_bytes()
    return data, hashlib.sha256(data).hexdigest()


def render_key(recipe: Recipe, *, measures: int | None = None) -> str:
    """The cache key of a recipe: a hash of everything that decides the rendered bytes."""
    sound = {
        "source": recipe.source,
        "programs": list(recipe.programs),
        "bpm": recipe.bpm,
        "repeats": recipe.repeats,
        "velocity": recipe.velocity,
        "measures": measures,
        "render_version": RENDER_VERSION,
        "soundfont": _soundfont()[1],
        "music21": version("music21"),
        "pretty_midi": version("pretty_midi"),
        "midirenderer": version("midirenderer"),
    }
    blob = json.dumps(sound, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:24]


def _musical_key(score: "Score") -> str:
    analysed = score.analyze("key")
    name = _KEY_NAMES[int(analysed.tonic.ps) % 12]
    return name + ("m" if analysed.mode == "minor" else "")


def score_for(recipe: Recipe, *, measures: int | None = None) -> "Score":
    """The recipe's score from music21's corpus with its tempo marks replaced by the recipe's
    (and cut to the first `measures` bars when given)."""
    from music21 import corpus, tempo
    from music21.musicxml.xmlToM21 import MusicXMLWarning

    with warnings.catch_warnings():
        # A few corpus scores have an overfull bar that music21 repairs itself; its warning
        # would only interrupt the seeding progress bar.
        warnings.simplefilter("ignore", MusicXMLWarning)
        score = corpus.parse(recipe.source)
    if measures is not None:
        score = score.measures(1, measures)
    for mark in list(score.recurse().getElementsByClass(tempo.TempoIndication)):
        site = mark.activeSite
        if site is not None:
            site.remove(mark)
    _strip_repeats(score)
    score.insert(0, tempo.MetronomeMark(number=recipe.bpm))
    return score


def _strip_repeats(score: "Score") -> None:
    """Play the score once through as printed: without repeat signs the MIDI export does not
    expand repeats, so the length of the music is the score's length (highestTime), which the
    recipes record; several corpus scores have repeats music21 cannot expand anyway."""
    from music21 import bar, repeat, stream

    for measure in score.recurse().getElementsByClass(stream.Measure):
        if isinstance(measure.leftBarline, bar.Repeat):
            measure.leftBarline = None
        if isinstance(measure.rightBarline, bar.Repeat):
            measure.rightBarline = bar.Barline("regular")
    for expression in list(score.recurse().getElementsByClass(repeat.RepeatExpression)):
        if expression.activeSite is not None:
            expression.activeSite.remove(expression)


def midi_for(recipe: Recipe, score: "Score") -> bytes:
    """MIDI bytes of the arrangement: the recipe's programs, velocity and repeats."""
    import pretty_midi
    from music21.midi.translate import music21ObjectToMidiFile

    raw = music21ObjectToMidiFile(score).writestr()
    midi = pretty_midi.PrettyMIDI(io.BytesIO(raw))
    # One play-through lasts as long as the score, rests at the end included.
    length = float(score.highestTime) * 60.0 / recipe.bpm
    for index, instrument in enumerate(midi.instruments):
        instrument.program = recipe.programs[index % len(recipe.programs)]
        instrument.is_drum = False
        instrument.control_changes = []
        once = list(instrument.notes)
        for note in once:
            note.velocity = min(127, max(1, round(note.velocity * recipe.velocity)))
        for turn in range(1, recipe.repeats):
            instrument.notes.extend(
                pretty_midi.Note(
                    velocity=n.velocity,
                    pitch=n.pitch,
                    start=n.start + turn * length,
                    end=n.end + turn * length,
                )
                for n in once
            )
    out = io.BytesIO()
    midi.write(out)
    return out.getvalue()


def _wave_seconds(path: Path) -> float:
    import wave

    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


def render(recipe: Recipe, *, cache_dir: Path, measures: int | None = None) -> Rendered:
    """The recipe's WAV in `cache_dir`, rendered only when it is not there yet.

    The WAV and a small JSON sidecar (key analysis, length) are written to temporary names and
    renamed into place, so a killed run leaves no half file behind.
    """
    import midirenderer

    cache_dir.mkdir(parents=True, exist_ok=True)
    key = render_key(recipe, measures=measures)
    wav_path = cache_dir / f"{key}.wav"
    meta_path = cache_dir / f"{key}.json"
    if wav_path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        return Rendered(
            code=recipe.code,
            path=wav_path,
            seconds=meta["seconds"],
            musical_key=meta["musical_key"],
            cached=True,
        )
    score = score_for(recipe, measures=measures)
    musical_key = _musical_key(score)
    wave_bytes = midirenderer.render_wave_from(_soundfont()[0], midi_for(recipe, score))
    _write_atomically(wav_path, wave_bytes)
    seconds = round(_wave_seconds(wav_path), 3)
    meta = {"seconds": seconds, "musical_key": musical_key, "recipe": asdict(recipe)}
    _write_atomically(meta_path, json.dumps(meta, indent=1, sort_keys=True).encode())
    return Rendered(
        code=recipe.code, path=wav_path, seconds=seconds, musical_key=musical_key, cached=False
    )


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
