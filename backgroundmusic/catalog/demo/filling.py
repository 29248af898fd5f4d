"""The demo catalogue filled in the background by the task worker
(docs/decisions/0038-first-run-in-the-background.md).

`make run` serves the site as soon as it is migrated: `demo_catalogue_enqueue` queues one
`catalog.tasks.make_demo_track` per recipe whose track is not ready and notes the run's codes in
the cache; the worker makes them one after another (`demo_track_make`: render, cached in
var/demo-audio/, then the same ingest as an upload, seed.recipe_make), and /catalog/ shows
`demo_catalogue_progress` until every track is ready or could not be made.

Each task is idempotent: a ready track is left as it is, and a track or master left half-made by
a stopped worker is finished (seed.recipe_make). Tasks queued by a run that was stopped stay
queued; the next run queues the recipes still missing again, and whichever task comes second
finds its track ready and does nothing, so a track is never made twice (its catalogue code is
unique as well).
"""

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from backgroundmusic.catalog import services as catalogue
from backgroundmusic.catalog.demo.collections import collections_ensure
from backgroundmusic.catalog.demo.recipes import RECIPES, Recipe
from backgroundmusic.catalog.demo.seed import lossless_complete, recipe_make, vocabulary_ensure
from backgroundmusic.catalog.models import Track
from backgroundmusic.core.errors import DomainError
from backgroundmusic.media.models import Master
from backgroundmusic.media.selectors import masters_missing_lossless

logger = logging.getLogger(__name__)

# {"codes": [the run's recipe codes], "failed": [those that could not be made]}, kept until the
# last task of the run; absent when no demo catalogue is being filled.
FILLING_KEY = "catalog:demo:filling"
DEMO_PRIORITY = -50


@dataclass(frozen=True)
class DemoProgress:
    ready: int
    total: int
    failed: int = 0

    @property
    def complete(self) -> bool:
        return self.ready + self.failed >= self.total

    @property
    def percent(self) -> int:
        return round(100 * self.ready / self.total) if self.total else 100


def _ready_codes(codes: list[str]) -> set[str]:
    """The codes among `codes` whose track has a ready master (one query)."""
    ready = Track.objects.filter(catalogue_code__in=codes, master__status=Master.Status.READY)
    return set(ready.values_list("catalogue_code", flat=True))


def demo_catalogue_enqueue(
    *, recipes: list[Recipe] | tuple[Recipe, ...] = RECIPES, measures: int | None = None
) -> list[str]:
    """Queues a task for every recipe whose track is not ready (and for every ready one still
    without its lossless rendition); returns the codes of the tracks to make. `measures` cuts
    every score to its first bars (tests)."""
    codes = [recipe.code for recipe in recipes]
    ready = _ready_codes(codes)
    missing = [code for code in codes if code not in ready]
    upgrades = sorted(
        master.track.catalogue_code
        for master in masters_missing_lossless().filter(track__catalogue_code__in=ready)
        if master.track is not None
    )
    if missing:
        vocabulary_ensure()
        cache.set(FILLING_KEY, {"codes": codes, "failed": []}, None)
        # A listing kept before this run (without the progress) must not be shown now.
        catalogue.listing_changed()
    elif _filling() is not None:
        _filling_end()
    from backgroundmusic.catalog import tasks  # which imports this module

    # Below every other job: the recurring ones (a break-glass grant ending, the inbox) must not
    # wait minutes behind the catalogue.
    make = tasks.make_demo_track.using(priority=DEMO_PRIORITY)
    with transaction.atomic():
        for code in missing + upgrades:
            make.enqueue(code=code, measures=measures)
    return missing


def demo_track_make(*, code: str, measures: int | None = None) -> str:
    """Makes the track of one recipe ready (or gives a ready one its lossless rendition) and
    returns what became of it: "ready", "made", "lossless added" or "failed: <reason>"."""
    recipe = next((recipe for recipe in RECIPES if recipe.code == code), None)
    if recipe is None:
        raise DomainError(f"There is no demo recipe {code}.", code="not_found")
    if _ready_codes([code]):
        added = lossless_complete(codes=[code], say=logger.info)
        collections_ensure()
        return "lossless added" if added else "ready"
    outcome = recipe_make(
        recipe=recipe, cache_dir=Path(settings.VAR_DIR) / "demo-audio", measures=measures
    )
    if outcome.reason:
        logger.warning("demo track %s could not be made: %s", code, outcome.reason)
        _filling_update(failed=code)
        return f"failed: {outcome.reason}"
    # A curated collection appears as soon as its last track is ready.
    collections_ensure()
    _filling_update()
    return "made"


def _filling_update(*, failed: str = "") -> None:
    """Notes a recipe that could not be made, and ends the run's progress once it is complete.
    Only the task worker writes it, one task at a time."""
    filling = _filling()
    if filling is None:
        return
    if failed and failed not in filling["failed"]:
        filling["failed"].append(failed)
        cache.set(FILLING_KEY, filling, None)
    if _progress_of(filling).complete:
        _filling_end()


def _filling_end() -> None:
    """Ends the run's progress; a listing kept with it (its last track could not be made, so no
    ingest replaced the listing's token) is not shown again."""
    cache.delete(FILLING_KEY)
    catalogue.listing_changed()


def _filling() -> dict[str, Any] | None:
    filling = cache.get(FILLING_KEY)
    return filling if isinstance(filling, dict) else None


def _progress_of(filling: dict[str, Any]) -> DemoProgress:
    codes = list(filling["codes"])
    return DemoProgress(
        ready=len(_ready_codes(codes)), total=len(codes), failed=len(filling["failed"])
    )


def demo_catalogue_progress() -> DemoProgress | None:
    """How far the demo catalogue's filling is, while it is under way; None when it is complete
    or no filling is under way (then without a query)."""
    filling = _filling()
    if filling is None:
        return None
    progress = _progress_of(filling)
    return None if progress.complete else progress
