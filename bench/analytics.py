"""Analytics ingestion benchmark: POST /a/e under concurrent load vs PostgreSQL COPY, in one run.

Run by `make bench` (or `.venv/bin/python bench/analytics.py`). On loopback:

- ours:   gunicorn as `make run` starts it (2 workers x 4 threads, config/gunicorn.py) on a
          PostgreSQL database made for the run; CLIENTS client processes, each on one keep-alive
          HTTP/1.1 connection, POST beacons of EVENTS_PER_BEACON events (a page view and its
          engagement pings, real paths with query strings and e-mail addresses to scrub) for
          SECONDS seconds. Then gunicorn is stopped (its workers write what they hold) and the
          stored rows are counted against the events the server accepted (204): the loss.
- anchor: psycopg COPY of the same number of equivalent rows into the same table.

Prints events/s for both, the ratio, and the loss. Goal: >= 5,000 events/s with no loss.
The client processes share the machine's two cores with the server, as a real load generator
on the same host would.

Environment: BENCH_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/postgres), BENCH_CLIENTS (4),
BENCH_SECONDS (10), BENCH_EVENTS_PER_BEACON (10).
"""

import http.client
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from search import ADMIN_URL, ROOT, admin, with_database
from streaming import HOST, free_port, gunicorn

DATABASE = "bench_analytics"
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "4"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
EVENTS_PER_BEACON = int(os.environ.get("BENCH_EVENTS_PER_BEACON", "10"))
PATHS = [
    "/",
    "/catalog/?mood=calm&page=2",
    "/catalog/?q=someone%40example.com&genre=ambient",
    "/catalog/morning-light/",
    "/privacy/",
    "/u/anna-smith/",
]
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)


def beacon(number: int) -> bytes:
    events = []
    for index in range(EVENTS_PER_BEACON):
        view = str(uuid.uuid4())
        path = PATHS[(number + index) % len(PATHS)]
        if index % 2:
            events.append({"kind": "engage", "view": view, "path": path, "engaged_ms": 4200})
        else:
            events.append(
                {
                    "kind": "view",
                    "view": view,
                    "path": path,
                    "referrer": "https://duckduckgo.com/",
                    "width": 1280,
                    "language": "ru-RU",
                }
            )
    return json.dumps({"events": events}).encode()


def client(port: int, seconds: float, results: "multiprocessing.Queue[tuple[int, int]]") -> None:
    bodies = [beacon(n) for n in range(64)]
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    accepted = refused = 0
    deadline = time.monotonic() + seconds
    number = 0
    while time.monotonic() < deadline:
        connection.request(
            "POST",
            "/a/e",
            body=bodies[number % len(bodies)],
            headers={"Content-Type": "text/plain", "User-Agent": USER_AGENT},
        )
        response = connection.getresponse()
        response.read()
        if response.status == 204:
            accepted += EVENTS_PER_BEACON
        else:
            refused += 1
        number += 1
    connection.close()
    results.put((accepted, refused))


def load(port: int) -> tuple[int, int, float]:
    results: multiprocessing.Queue[tuple[int, int]] = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=client, args=(port, SECONDS, results))
        for _ in range(CLIENTS)
    ]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    totals = [results.get() for _ in workers]
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    return sum(a for a, _ in totals), sum(r for _, r in totals), elapsed


def copy_anchor(url: str, count: int) -> float:
    columns = (
        "kind, occurred_at, view_id, visitor_key, pseudonym, path, referrer_host, browser, "
        "browser_major, device, screen, country, language, engaged_ms"
    )
    now = datetime.now(UTC)
    rows = [
        (
            "view" if n % 2 == 0 else "engage",
            now,
            uuid.uuid4(),
            "a" * 64,
            "",
            PATHS[n % len(PATHS)],
            "duckduckgo.com",
            "Chrome",
            "126",
            "desktop",
            "l",
            "",
            "ru-RU",
            0 if n % 2 == 0 else 4200,
        )
        for n in range(count)
    ]
    with psycopg.connect(url) as connection:
        connection.execute("TRUNCATE analytics_event")
        connection.commit()
        started = time.perf_counter()
        statement = f"COPY analytics_event ({columns}) FROM STDIN"
        with connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        connection.commit()
        return time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-analytics-") as scratch:
        run(scratch=scratch)


def run(*, scratch: str) -> None:
    admin(f"DROP DATABASE IF EXISTS {DATABASE}")
    admin(f"CREATE DATABASE {DATABASE}")
    url = with_database(ADMIN_URL, DATABASE)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ANALYTICS_BATCH_SIZE": "500",
        "ANALYTICS_FLUSH_SECONDS": "0.5",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        # The beacon needs no static files; an existing folder keeps WhiteNoise quiet.
        "STATIC_ROOT": scratch,
    }
    env.pop("ANALYTICS_DATABASE_URL", None)
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        port = free_port()
        with gunicorn(env, port, Path(scratch) / "gunicorn.log"):
            accepted, refused, elapsed = load(port)
        with psycopg.connect(url) as connection:
            [(stored,)] = connection.execute("SELECT count(*) FROM analytics_event").fetchall()
        copy_seconds = copy_anchor(url, accepted)

        ours = accepted / elapsed
        anchor = accepted / copy_seconds
        print(f"clients: {CLIENTS}, {EVENTS_PER_BEACON} events per beacon, {SECONDS:g} s of load")
        print(f"/a/e:   {ours:9.0f} events/s  ({accepted} accepted, {refused} beacons refused)")
        print(f"COPY:   {anchor:9.0f} events/s  (the same {accepted} rows in {copy_seconds:.2f} s)")
        print(f"ratio ours/COPY: {ours / anchor:.3f}   (goal: ours >= 5000 events/s)")
        print(f"stored {stored} of {accepted} accepted: lost {accepted - stored}")
    finally:
        admin(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


if __name__ == "__main__":
    main()
