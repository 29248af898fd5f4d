"""python manage.py add_lossless_renditions

Makes the lossless (FLAC) rendition of every ready master that has none: those ingested before
the rendition existed (ingest makes it since). One line per master, then a summary; running it
again does only what is still missing. Lossy masters (MP3, Opus, Vorbis) get none.
"""

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from backgroundmusic.core.errors import DomainError
from backgroundmusic.media import selectors, services


class Command(BaseCommand):
    help = (
        "Makes the lossless (FLAC) rendition of each ready master that lacks one; "
        "safe to run again."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override(settings.LANGUAGE_CODE):
            self._add()

    def _add(self) -> None:
        masters = list(selectors.masters_missing_lossless())
        if not masters:
            self.stdout.write("Every ready master has its lossless rendition.")
            return
        total = len(masters)
        made = 0
        failed: list[str] = []
        master_bytes = flac_bytes = 0
        started = time.monotonic()
        for number, master in enumerate(masters, start=1):
            label = master.track.catalogue_code if master.track else master.sha256[:12]
            began = time.monotonic()
            try:
                rendition = services.master_lossless_add(master_id=master.pk)
            except DomainError as error:
                failed.append(label)
                self.stderr.write(f"[{number}/{total}] {label}: {error.message}")
                continue
            if rendition is None:  # no longer ready since the list was read
                self.stdout.write(f"[{number}/{total}] {label}: no longer ready, skipped")
                continue
            made += 1
            master_bytes += master.size_bytes
            flac_bytes += rendition.size_bytes
            self.stdout.write(
                f"[{number}/{total}] {label}: FLAC {rendition.size_bytes / 1e6:.1f} MB, "
                f"{_percent(rendition.size_bytes, master.size_bytes)} of the master, "
                f"in {time.monotonic() - began:.1f} s"
            )
        self.stdout.write(
            f"Lossless renditions: {made} made, {len(failed)} failed; "
            f"{flac_bytes / 1e6:.1f} MB for {master_bytes / 1e6:.1f} MB of masters "
            f"({_percent(flac_bytes, master_bytes)}), {time.monotonic() - started:.0f} s in all."
        )
        if failed:
            raise CommandError(f"{len(failed)} masters got no lossless rendition: {failed}")


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "—"
