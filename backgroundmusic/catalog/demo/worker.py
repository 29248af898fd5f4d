"""Entry points of the seeding processes (spawned: they share nothing with the parent).

Kept free of Django imports at module level: a spawned process imports this module before
`setup` has configured Django.
"""

import os
from pathlib import Path


def setup() -> None:
    """Pool initializer: configure Django from the same environment as the parent."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def make(code: str, *, cache_dir: Path, measures: int | None, ingest: bool) -> object:
    """Renders (or finds in the cache) and ingests one recipe; returns seed.Outcome."""
    from backgroundmusic.catalog.demo.recipes import RECIPES
    from backgroundmusic.catalog.demo.seed import recipe_make

    recipe = next(recipe for recipe in RECIPES if recipe.code == code)
    try:
        return recipe_make(recipe=recipe, cache_dir=cache_dir, measures=measures, ingest=ingest)
    finally:
        from django.db import connections

        connections.close_all()
