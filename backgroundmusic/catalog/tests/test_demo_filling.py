"""The demo catalogue made in the background (catalog/demo/filling.py): one task per track,
idempotent and continued after an interruption; its progress on /catalog/ while it is under way."""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.http import QueryDict
from django.utils import timezone, translation
from django_tasks_db.models import DBTaskResult

from backgroundmusic.catalog import page_cache, services
from backgroundmusic.catalog.demo import collections, filling
from backgroundmusic.catalog.demo.collections import CollectionSpec
from backgroundmusic.catalog.demo.filling import (
    FILLING_KEY,
    DemoProgress,
    demo_catalogue_enqueue,
    demo_catalogue_progress,
)
from backgroundmusic.catalog.demo.recipes import RECIPES
from backgroundmusic.catalog.models import Collection, Track
from backgroundmusic.catalog.tests.fixtures import make_facets, ready_track
from backgroundmusic.core.tasks import prune_schedule_slots
from backgroundmusic.media import services as media
from backgroundmusic.media.models import Master
from backgroundmusic.media.tests.audio import sine, write_wav

pytestmark = pytest.mark.django_db

BY_CODE = {recipe.code: recipe for recipe in RECIPES}
# Three short excerpts (the first bars of each score): quick to render and ingest.
THREE = [BY_CODE["BM-0002"], BY_CODE["BM-0001"], BY_CODE["BM-0003"]]
MEASURES = 2
TASK = "backgroundmusic.catalog.tasks.make_demo_track"
MAIN = re.compile(r'<main id="content">\s*(.*?)\s*</main>', re.DOTALL)
PROGRESS = re.compile(r'<progress id="demo-progress" max="(\d+)" value="(\d+)">')


@pytest.fixture(autouse=True)
def audio_cache(settings, tmp_path: Path) -> Path:
    settings.VAR_DIR = tmp_path
    return tmp_path / "demo-audio"


def queued() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(status="READY", task_path=TASK))


class Interrupted(BaseException):
    """What Ctrl-C's second signal raises in the worker's task (SystemExit in run_worker)."""


def run_queued(*, interrupt_ingest_of: str = "") -> list[str]:
    """Runs the queued demo tasks in order, as the worker does: a task that raises is marked
    failed and the worker stops. With `interrupt_ingest_of`, that track's ingest is interrupted
    half-way (its master left processing)."""
    results = []
    for row in queued():
        kwargs = row.args_kwargs["kwargs"]
        try:
            with pytest.MonkeyPatch.context() as patch:
                if kwargs["code"] == interrupt_ingest_of:
                    patch.setattr(media, "_run", _interrupted)
                results.append(row.task.call(**kwargs))
        except Interrupted:
            DBTaskResult.objects.filter(pk=row.pk).update(
                status="FAILED", finished_at=timezone.now()
            )
            return results
        DBTaskResult.objects.filter(pk=row.pk).update(
            status="SUCCESSFUL", finished_at=timezone.now()
        )
    return results


def _interrupted(master: Master) -> Master:
    raise Interrupted


def test_the_tasks_continue_after_an_interruption_and_never_make_a_track_twice(audio_cache):
    assert demo_catalogue_enqueue(recipes=THREE, measures=MEASURES) == [
        "BM-0002",
        "BM-0001",
        "BM-0003",
    ]
    assert [row.args_kwargs["kwargs"] for row in queued()] == [
        {"code": "BM-0002", "measures": MEASURES},
        {"code": "BM-0001", "measures": MEASURES},
        {"code": "BM-0003", "measures": MEASURES},
    ]
    assert cache.get(FILLING_KEY) == {"codes": ["BM-0002", "BM-0001", "BM-0003"], "failed": []}
    assert demo_catalogue_progress() == DemoProgress(ready=0, total=3)

    # The worker makes the first track, then is stopped during the second one's ingest.
    assert run_queued(interrupt_ingest_of="BM-0001") == ["made"]
    assert Master.objects.get(track__catalogue_code="BM-0001").status == "processing"
    assert demo_catalogue_progress() == DemoProgress(ready=1, total=3)
    assert [row.args_kwargs["kwargs"]["code"] for row in queued()] == ["BM-0003"]

    # The next `make run` queues the two missing tracks again, beside the one still queued.
    assert demo_catalogue_enqueue(recipes=THREE, measures=MEASURES) == ["BM-0001", "BM-0003"]
    assert [row.args_kwargs["kwargs"]["code"] for row in queued()] == [
        "BM-0003",
        "BM-0001",
        "BM-0003",
    ]
    assert run_queued() == ["made", "made", "ready"]

    assert sorted(Track.objects.values_list("catalogue_code", flat=True)) == [
        "BM-0001",
        "BM-0002",
        "BM-0003",
    ]
    assert Master.objects.count() == 3
    assert set(Master.objects.values_list("status", flat=True)) == {"ready"}
    assert len(list(audio_cache.glob("*.wav"))) == 3  # each excerpt rendered once
    assert cache.get(FILLING_KEY) is None  # the run is complete
    assert demo_catalogue_progress() is None

    # The ingest jobs the uploads queued find their masters ready.
    ingests = DBTaskResult.objects.filter(
        status="READY", task_path="backgroundmusic.media.tasks.ingest_master"
    )
    assert sorted(row.task.call(**row.args_kwargs["kwargs"]) for row in ingests) == ["ready"] * 3

    # A run with every track ready queues nothing.
    assert demo_catalogue_enqueue(recipes=THREE, measures=MEASURES) == []
    assert queued() == []
    assert cache.get(FILLING_KEY) is None


def test_a_curated_collection_appears_once_its_last_track_is_made(monkeypatch, audio_cache):
    pair = CollectionSpec(
        slug="pair",
        title="Pair",
        title_ru="Пара",
        description="Two tracks.",
        description_ru="Два трека.",
        codes=("BM-0002", "BM-0001"),
        featured=True,
    )
    monkeypatch.setattr(collections, "COLLECTIONS", (pair,))
    demo_catalogue_enqueue(recipes=THREE[:2], measures=MEASURES)
    first, second = queued()
    first.task.call(**first.args_kwargs["kwargs"])
    assert not Collection.objects.exists()
    second.task.call(**second.args_kwargs["kwargs"])
    made = Collection.objects.get()
    assert (made.slug, made.title_ru, made.is_published, made.is_featured) == (
        "pair",
        "Пара",
        True,
        True,
    )
    codes = made.items.order_by("position").values_list("track__catalogue_code", flat=True)
    assert list(codes) == ["BM-0002", "BM-0001"]


def test_a_recipe_that_cannot_be_made_ends_the_progress_without_it(monkeypatch, audio_cache):
    def refused(recipe, **kwargs):  # type: ignore[no-untyped-def]
        raise ValueError("no such score")

    monkeypatch.setattr("backgroundmusic.catalog.demo.seed.render", refused)
    ready_track(catalogue_code="BM-0002")
    assert demo_catalogue_enqueue(recipes=THREE[:2], measures=MEASURES) == ["BM-0001"]
    listing_version = cache.get(page_cache.VERSION_KEY)
    assert demo_catalogue_progress() == DemoProgress(ready=1, total=2)
    assert run_queued() == ["failed: rendering failed: ValueError('no such score')"]
    assert cache.get(FILLING_KEY) is None
    # A listing kept with the progress is not shown again.
    assert cache.get(page_cache.VERSION_KEY) != listing_version
    assert Track.objects.filter(catalogue_code="BM-0001").exists() is False


def test_an_unknown_code_is_refused():
    with pytest.raises(filling.DomainError, match=r"^There is no demo recipe BM-9999\.$"):
        filling.demo_track_make(code="BM-9999")


def test_the_progress_counts_the_runs_tracks_with_a_ready_master(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert demo_catalogue_progress() is None  # no filling under way
    cache.set(FILLING_KEY, {"codes": ["BM-0001", "BM-0002", "BM-0003", "BM-0004"], "failed": []})
    ready_track(catalogue_code="BM-0001")
    ready_track(catalogue_code="BM-0002", status=Master.Status.PROCESSING)
    ready_track(catalogue_code="BM-0003", published=False)  # ready: staff may have hidden it
    ready_track(catalogue_code="MW-0001")  # not the demo's
    with django_assert_num_queries(1):
        progress = demo_catalogue_progress()
    assert progress == DemoProgress(ready=2, total=4, failed=0)
    assert (progress.percent, progress.complete) == (50, False)
    cache.set(
        FILLING_KEY, {"codes": ["BM-0001", "BM-0002", "BM-0003", "BM-0004"], "failed": ["BM-0004"]}
    )
    assert demo_catalogue_progress() == DemoProgress(ready=2, total=4, failed=1)
    Master.objects.filter(track__catalogue_code="BM-0002").update(status="ready")
    assert demo_catalogue_progress() is None  # 3 ready and 1 failed: complete
    assert DemoProgress(ready=3, total=4, failed=1).percent == 75


def progress_of(html: str) -> tuple[int, int] | None:
    found = PROGRESS.search(html)
    return (int(found.group(2)), int(found.group(1))) if found else None


def test_the_catalogue_shows_the_progress_until_the_last_track_is_ready(client, tmp_path: Path):
    make_facets()
    cache.set(FILLING_KEY, {"codes": ["BM-0001", "BM-0002"], "failed": []})
    ready_track(title="Morning Courtyard", catalogue_code="BM-0001", slug="morning-courtyard")
    wav = write_wav(tmp_path / "library.wav", sine(3.0, lead=0.5, tail=0.5))
    track = services.track_create(
        actor=None,
        title="Quiet Library",
        catalogue_code="BM-0002",
        is_published=True,
        duration_seconds=4.0,
        tempo_bpm=90,
    )
    master = media.master_upload(source=wav, actor=None, track=track)

    html = client.get("/catalog/?genre=ambient&sort=title").content.decode()
    assert progress_of(html) == (1, 2)
    assert "Demo tracks ready: 1 of 2" in html
    assert (
        'hx-get="/catalog/?genre=ambient&amp;sort=title" hx-trigger="every 5s" '
        'hx-select="#catalogue-results" hx-swap="outerHTML"'
    ) in html
    html = client.get("/catalog/").content.decode()
    assert 'hx-get="/catalog/" hx-trigger="every 5s"' in html
    assert 'data-slug="morning-courtyard"' in html
    assert 'data-slug="quiet-library"' not in html
    russian = client.get("/catalog/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Готово демонстрационных треков: 1 из 2" in russian
    assert "Демонстрационный каталог создаётся в фоне" in russian

    # The listing kept while the catalogue was filling is not shown once it is complete.
    with translation.override("en"):
        kept = page_cache.listing_key(query=QueryDict(), user=AnonymousUser())
    shown = MAIN.search(html)
    assert shown is not None
    assert str(page_cache.listing_get(kept)).strip() == shown.group(1)
    ready = media.master_ingest(master_id=master.pk)
    assert ready is not None and ready.status == "ready"
    html = client.get("/catalog/").content.decode()
    assert progress_of(html) is None
    assert "Demo tracks ready" not in html
    assert 'hx-trigger="every 5s"' not in html
    assert 'data-slug="morning-courtyard"' in html and 'data-slug="quiet-library"' in html


def test_the_command_queues_in_the_background(settings, audio_cache):
    # The demo runs embedded; the suite's PostgreSQL pass is not, so the test says which it is.
    settings.EMBEDDED = True
    ready_track(catalogue_code="BM-0001")
    call_command("seed_catalog", "--background", "--limit", "3")
    assert [row.args_kwargs["kwargs"] for row in queued()] == [
        {"code": "BM-0002", "measures": None},
        {"code": "BM-0003", "measures": None},
    ]
    assert demo_catalogue_progress() == DemoProgress(ready=1, total=3)
    # A job queued after them (a recurring one) is taken first by the worker.
    prune_schedule_slots.enqueue()
    first = DBTaskResult.objects.ready().get_locked()
    assert first is not None
    assert first.task_path == "backgroundmusic.core.tasks.prune_schedule_slots"
    with pytest.raises(CommandError, match="--background takes neither --render-only"):
        call_command("seed_catalog", "--background", "--render-only")
    settings.EMBEDDED = False
    with pytest.raises(CommandError, match="only runs in embedded mode"):
        call_command("seed_catalog", "--background")
    assert len(queued()) == 2
