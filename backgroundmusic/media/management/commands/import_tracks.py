"""python manage.py import_tracks DIR [--csv FILE] [--now]

Each audio file in DIR becomes a draft track (metadata from the file's tags, overridden by the
CSV row of the same file name) with its master, ingested now (--now) or by the task worker.
A file that cannot be read, is a duplicate, or fails ingest is reported and leaves nothing
behind (media/services.py).
"""

import csv
import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.text import slugify

from backgroundmusic.catalog import services as catalogue
from backgroundmusic.catalog.models import MusicalKey
from backgroundmusic.core.errors import DomainError
from backgroundmusic.media import pipeline, services

CSV_COLUMNS = (
    "file",
    "title",
    "composer",
    "genres",
    "moods",
    "instruments",
    "tags",
    "bpm",
    "key",
    "energy",
    "description",
)
ENHARMONIC = {"A#": "Bb", "Db": "C#", "D#": "Eb", "Gb": "F#", "G#": "Ab", "Cb": "B", "Fb": "E"}


def _list(value: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;,]", value or "") if part.strip()]


def musical_key(value: str) -> str:
    """ "A minor", "Am", "F♯m", "Bb major" → a MusicalKey value; "" when not understood."""
    text = (value or "").strip().replace("♯", "#").replace("♭", "b")
    match = re.fullmatch(r"([A-Ga-g])([#b]?)\s*(m|min|minor|maj|major)?", text, re.IGNORECASE)
    if not match:
        return ""
    root = match.group(1).upper() + match.group(2)
    root = ENHARMONIC.get(root, root)
    minor = (match.group(3) or "").lower() in ("m", "min", "minor")
    key = root + ("m" if minor else "")
    return key if key in MusicalKey.values else ""


def _number(value: str, low: int, high: int) -> int | None:
    try:
        number = round(float(str(value).strip()))
    except ValueError:
        return None
    return number if low <= number <= high else None


class Command(BaseCommand):
    help = "Imports every audio file of a directory as a draft track with its master."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)
        parser.add_argument("--csv", type=Path, help="metadata by file name; overrides tags")
        parser.add_argument("--now", action="store_true", help="ingest here, not in the worker")

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override(settings.LANGUAGE_CODE):
            self._import(options)

    def _import(self, options: dict[str, Any]) -> None:
        directory = Path(options["directory"])
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a directory")
        rows = self._csv(Path(options["csv"])) if options["csv"] else {}
        files = sorted(
            p
            for p in directory.iterdir()
            if p.is_file() and p.suffix.lower() in pipeline.ACCEPTED_EXTENSIONS
        )
        counts = {"ready": 0, "queued": 0, "skipped": 0, "failed": 0}
        for path in files:
            outcome, text = self._one(path, rows.get(path.name, {}), now=options["now"])
            counts[outcome] += 1
            line = f"{path.name}: {text}"
            if outcome in ("skipped", "failed"):
                self.stderr.write(line)
            else:
                self.stdout.write(line)
        self.stdout.write(
            "{} files: {ready} ready, {queued} queued, {skipped} skipped, {failed} failed".format(
                len(files), **counts
            )
        )

    def _csv(self, path: Path) -> dict[str, dict[str, str]]:
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                reader = csv.DictReader(handle)
                missing = [c for c in ("file",) if c not in (reader.fieldnames or [])]
                if missing:
                    raise CommandError(f"{path} has no 'file' column")
                return {row["file"].strip(): row for row in reader if row.get("file")}
        except (OSError, UnicodeDecodeError, csv.Error) as error:
            raise CommandError(f"cannot read {path}: {error}") from error

    def _fields(self, path: Path, row: dict[str, str]) -> dict[str, Any]:
        tags = pipeline.tags(path)
        value = {
            "title": tags.get("title", ""),
            "composer": tags.get("artist") or tags.get("composer", ""),
            "genres": tags.get("genre", ""),
            "bpm": tags.get("tbpm") or tags.get("bpm", ""),
            "key": tags.get("tkey") or tags.get("initialkey") or tags.get("key", ""),
        }
        value |= {k: v.strip() for k, v in row.items() if k in CSV_COLUMNS and v and v.strip()}
        fields: dict[str, Any] = {
            "title": value.get("title") or path.stem,
            "composer": value.get("composer", ""),
            "description": value.get("description", ""),
            "tags": _list(value.get("tags", "")),
            "tempo_bpm": _number(value.get("bpm", ""), 20, 300),
            "musical_key": musical_key(value.get("key", "")),
        }
        energy = _number(value.get("energy", ""), 1, 10)
        if energy is not None:
            fields["energy"] = energy
        for column, kind in (("genres", "genre"), ("moods", "mood"), ("instruments", "instrument")):
            fields[column] = [self._facet(kind, name) for name in _list(value.get(column, ""))]
        return fields

    def _facet(self, kind: str, name: str) -> str:
        slug = slugify(name)
        model = catalogue.FACET_MODELS[kind]
        if not model._default_manager.filter(slug=slug).exists():
            # A new term gets the same name in Russian until a content manager translates it.
            catalogue.facet_create(actor=None, kind=kind, name_en=name, name_ru=name, slug=slug)
        return slug

    def _one(self, path: Path, row: dict[str, str], *, now: bool) -> tuple[str, str]:
        try:
            fields = self._fields(path, row)
            master = services.master_upload(
                source=path, actor=None, new_track=fields, source_name=path.name
            )
        except DomainError as error:
            return "skipped", error.message
        track = master.track
        label = f"«{track.title}» ({track.catalogue_code})" if track else master.sha256[:12]
        if not now:
            return "queued", f"{label} queued for ingest"
        done = services.master_ingest(master_id=master.pk)
        if done is None or done.status != done.Status.READY:
            reason = done.failure_reason if done is not None else "the master was deleted"
            return "failed", f"{label} failed: {reason}"
        return "ready", (
            f"{label} ready: {done.duration_seconds:.1f} s, {done.integrated_lufs:.1f} LUFS, "
            f"{done.true_peak_dbtp:.1f} dBTP"
        )
