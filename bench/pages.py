"""Pages benchmark: pages/s of the main public pages next to /healthz, in one run.

Run by `make bench` (or `.venv/bin/python bench/pages.py`). On loopback, in a scratch VAR_DIR:

- data:    a migrated SQLite database (embedded mode) with the demo policy editions and accounts
           (`seed_demo`), the demo facet vocabulary and the 42 demo tracks as published tracks
           with ready masters and preview renditions (rows only: the pages read no audio), and
           one published collection of 12 of them;
- server:  gunicorn as `make run` starts it (config/gunicorn.py, 2 workers × 4 threads);
- clients: CLIENTS concurrent keep-alive HTTP/1.1 connections (threads spread over a few
           processes) asking for one page for SECONDS seconds; every answer must be a 200.

/healthz is the anchor: the same server, the same middleware, a page that does almost nothing.
After the warm-up the catalogue and filtered catalogue are listings from the page cache
(catalog/page_cache.py); a text search is never kept, so its row is a listing rendered every time.
Prints pages/s, p50 and p99 for each page and its ratio to /healthz (measured first and last,
the ratio taken to their mean). Goal (issue 10): the
catalogue at ≥ 0.3 × /healthz. The clients share the machine's cores with the server, as a load
generator on the same host does.

Environment: BENCH_CLIENTS (20), BENCH_SECONDS (4).
"""

import http.client
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from streaming import HOST, ROOT, free_port, gunicorn

CLIENTS = int(os.environ.get("BENCH_CLIENTS", "20"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "4"))
PROCESSES = min(4, CLIENTS)
COLLECTION_SLUG = "bench-favourites"
ANCHOR_AGAIN = "/healthz (anchor, again)"

# (label, path); the track page's path is filled in by prepare().
PAGES = [
    ("/healthz (anchor)", "/healthz"),
    ("home", "/"),
    ("catalogue", "/catalog/"),
    ("catalogue, filtered", "/catalog/?genre=classical&mood=calm&sort=title"),
    ("catalogue, text search", "/catalog/?q=sonata"),
    ("track", ""),
    ("collections", "/catalog/collections/"),
    ("collection", f"/catalog/collections/{COLLECTION_SLUG}/"),
    ("privacy policy", "/privacy-policy/"),
    ("policy editions", "/privacy-policy/editions/"),
    ("cookies", "/cookies/"),
    ("records of processing", "/privacy/processing/"),
]


def prepare() -> str:
    """Migrates the scratch database and fills it; returns the path of one track page."""
    import hashlib

    import django

    django.setup()
    from django.core.management import call_command

    from backgroundmusic.catalog import services as catalogue
    from backgroundmusic.catalog.demo.recipes import RECIPES
    from backgroundmusic.catalog.demo.seed import recipe_instruments, vocabulary_ensure
    from backgroundmusic.catalog.models import Collection
    from backgroundmusic.core import clock
    from backgroundmusic.media.models import Master, Rendition

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    call_command("seed_demo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    vocabulary_ensure()
    tracks = []
    for number, recipe in enumerate(RECIPES, start=1):
        track = catalogue.track_create(
            actor=None,
            title=recipe.title,
            catalogue_code=recipe.code,
            description=recipe.description,
            composer=recipe.composer,
            genres=recipe.genres,
            moods=recipe.moods,
            instruments=recipe_instruments(recipe),
            tags=recipe.tags,
            tempo_bpm=round(recipe.bpm),
            energy=recipe.energy,
            duration_seconds=round(recipe.seconds, 1),
            is_instrumental=True,
            is_published=True,
        )
        digest = hashlib.sha256(recipe.code.encode()).hexdigest()
        master = Master.objects.create(
            track=track,
            sha256=digest,
            storage_key=f"masters/{digest[:2]}/{digest}",
            status=Master.Status.READY,
            uploaded_at=clock.now(),
            duration_seconds=recipe.seconds,
            integrated_lufs=-16.0,
            loudness_range_lu=6.0,
            true_peak_dbtp=-1.0,
            waveform_peaks=[[-0.5 - (i % 7) / 20, 0.5 + (i % 5) / 20] for i in range(800)],
        )
        Rendition.objects.create(
            master=master,
            kind=Rendition.Kind.PREVIEW,
            storage_key=f"renditions/{digest[:2]}/{digest}.mp3",
            mime_type="audio/mpeg",
            bitrate=128_000,
            size_bytes=480_000,
            duration_seconds=30.0,
            sha256=digest,
        )
        tracks.append(track)
        if number == 1:
            track_path = f"/catalog/{track.slug}/"
    Collection.objects.all().delete()
    collection = Collection.objects.create(
        kind=Collection.Kind.CURATED, title="Bench favourites", slug=COLLECTION_SLUG
    )
    catalogue.collection_update(
        actor=None,
        collection=collection,
        kind=collection.kind,
        title=collection.title,
        slug=COLLECTION_SLUG,
        description="Twelve of the demo tracks.",
        is_published=True,
        track_ids=[track.pk for track in tracks[:12]],
    )
    return track_path


Outcome = tuple[list[float], str]


def connection_loop(port: int, path: str, deadline: float, outcomes: list[Outcome]) -> None:
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    latencies: list[float] = []
    error = ""
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            connection.request("GET", path, headers={"Accept-Language": "en"})
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as problem:
            error = f"{type(problem).__name__}: {problem}"
            break
        if response.status != 200:
            error = f"{path} answered {response.status}"
            break
        latencies.append(time.perf_counter() - started)
    connection.close()
    outcomes.append((latencies, error))


def client_process(args: tuple[int, str, int, float]) -> tuple[list[Outcome], float]:
    """`threads` connections in this process until the same deadline; (outcomes, seconds)."""
    port, path, threads, seconds = args
    began = time.monotonic()
    outcomes: list[Outcome] = []
    workers = [
        threading.Thread(target=connection_loop, args=(port, path, began + seconds, outcomes))
        for _ in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return outcomes, time.monotonic() - began


def measure(pool: "multiprocessing.pool.Pool", port: int, path: str) -> dict[str, float]:
    shares = [
        CLIENTS // PROCESSES + (1 if n < CLIENTS % PROCESSES else 0) for n in range(PROCESSES)
    ]
    results = pool.map(client_process, [(port, path, share, SECONDS) for share in shares])
    outcomes = [outcome for result, _ in results for outcome in result]
    errors = sorted({error for _, error in outcomes if error})
    if errors:
        raise SystemExit(errors[0])
    latencies = sorted(latency for result, _ in outcomes for latency in result)
    return {
        "pages": len(latencies),
        # Each process's pages over the time it ran, summed: the pool's start is not counted.
        "rate": sum(sum(len(got) for got, _ in result) / ran for result, ran in results),
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


def warm_up(port: int, paths: list[str]) -> None:
    """Every page a few times, so that both workers have imported and compiled everything."""
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    for _round in range(8):
        for path in paths:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit(f"warm-up: {path} answered {response.status}")
    connection.close()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as scratch:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DATABASE_URL", "ANALYTICS_DATABASE_URL", "REDIS_URL"}
        }
        env.update(
            VAR_DIR=str(Path(scratch) / "var"),
            DJANGO_SETTINGS_MODULE="config.settings",
            LOG_LEVEL="WARNING",
            PYTHONPATH=str(ROOT),
        )
        os.environ.clear()
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        track_path = prepare()
        pages = [(label, path or track_path) for label, path in PAGES]
        port = free_port()
        print(
            f"pages bench: {CLIENTS} concurrent clients, {SECONDS:g} s per page, gunicorn "
            "2 workers × 4 threads, SQLite, 42 tracks",
            flush=True,
        )
        with (
            gunicorn(env, port, Path(scratch) / "gunicorn.log"),
            multiprocessing.get_context("spawn").Pool(PROCESSES) as pool,
        ):
            warm_up(port, [path for _, path in pages])
            pool.map(client_process, [(port, "/healthz", 1, 0.5)] * PROCESSES)
            results = {label: measure(pool, port, path) for label, path in pages}
            # The anchor again at the end: the machine's load may have changed meanwhile.
            results[ANCHOR_AGAIN] = measure(pool, port, "/healthz")
    anchor = (results[PAGES[0][0]]["rate"] + results[ANCHOR_AGAIN]["rate"]) / 2
    print(f"{'page':26} {'pages':>7} {'pages/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'× healthz':>10}")
    for label, numbers in results.items():
        print(
            f"{label:26} {numbers['pages']:7.0f} {numbers['rate']:9.0f} "
            f"{numbers['p50_ms']:8.1f} {numbers['p99_ms']:8.1f} {numbers['rate'] / anchor:10.2f}"
        )
    catalogue = results["catalogue"]["rate"]
    print(f"ratio catalogue / healthz: {catalogue / anchor:.2f}   (goal: >= 0.3)")


if __name__ == "__main__":
    main()
