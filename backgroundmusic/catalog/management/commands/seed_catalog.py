"""The demo catalogue for the embedded install (docs/decisions/0009-demo-catalogue.md)."""

import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from backgroundmusic.catalog.demo.filling import demo_catalogue_enqueue
from backgroundmusic.catalog.demo.recipes import RECIPES
from backgroundmusic.catalog.demo.seed import catalogue_seed


class Command(BaseCommand):
    help = (
        "Render the demo tracks from public-domain scores (cached in VAR_DIR/demo-audio) and "
        "ingest them; tracks already ready are skipped. Embedded mode only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--workers", type=int, default=2, help="rendering processes (default 2)"
        )
        parser.add_argument(
            "--limit", type=int, default=None, help="only the first N recipes (a quick try)"
        )
        parser.add_argument(
            "--render-only", action="store_true", help="fill the audio cache, ingest nothing"
        )
        parser.add_argument(
            "--cache-dir", type=Path, default=None, help="default: VAR_DIR/demo-audio"
        )
        parser.add_argument(
            "--background",
            action="store_true",
            help="queue one task per missing track for the task worker and return at once "
            "(/catalog/ shows the progress); cached in VAR_DIR/demo-audio",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.EMBEDDED:
            raise CommandError("seed_catalog only runs in embedded mode (DATABASE_URL unset)")
        workers = options["workers"]
        if workers < 1:
            raise CommandError("--workers must be at least 1")
        limit = options["limit"]
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1")
        recipes = RECIPES[:limit] if limit else RECIPES
        if options["background"]:
            if options["render_only"] or options["cache_dir"]:
                raise CommandError("--background takes neither --render-only nor --cache-dir")
            queued = demo_catalogue_enqueue(recipes=recipes)
            self.stdout.write(
                f"Demo catalogue: {len(recipes) - len(queued)} of {len(recipes)} tracks ready; "
                + (
                    f"{len(queued)} queued for the task worker (progress on /catalog/)."
                    if queued
                    else "nothing to make."
                )
            )
            return
        cache_dir = options["cache_dir"] or Path(settings.VAR_DIR) / "demo-audio"

        def say(line: str) -> None:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()

        report = catalogue_seed(
            cache_dir=cache_dir,
            recipes=recipes,
            workers=workers,
            ingest=not options["render_only"],
            say=say,
        )
        self.stdout.write(
            f"Demo catalogue: {len(report.created)} made, {len(report.skipped)} already ready "
            f"({len(report.lossless_added)} given their lossless rendition), "
            f"{len(report.failed)} failed; {report.rendered} rendered, the rest from the cache; "
            f"{len(report.collections_made)} collections made, "
            f"{len(report.descriptions_refreshed)} descriptions brought up to date; "
            f"{report.audio_seconds / 60:.1f} min of audio ingested in "
            f"{report.ingest_seconds:.0f} s; {report.total_seconds:.0f} s in all."
        )
        if report.failed:
            for code, reason in sorted(report.failed.items()):
                self.stderr.write(f"{code}: {reason}")
            raise CommandError(f"{len(report.failed)} demo tracks could not be made (see above)")
