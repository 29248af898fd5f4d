"""Jobs of the catalogue app: thin, take ids, safe to run again after a kill."""

from django_tasks import task

from backgroundmusic.catalog.demo import filling


@task()
def make_demo_track(code: str, measures: int | None = None) -> str:
    """Makes one demo track ready (catalog/demo/filling.py); returns what became of it."""
    return filling.demo_track_make(code=code, measures=measures)
