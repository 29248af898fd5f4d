"""Prometheus metrics (decision 0042), served at /metrics to a scraper holding METRICS_TOKEN.

Two kinds:
- counted in the process (request latency, mail, the analytics buffer): prometheus_client
  metrics in `process_registry`. With several processes (gunicorn's workers, the task worker)
  PROMETHEUS_MULTIPROC_DIR names a directory they all write to, and a scrape adds them up;
- read at scrape time from the database or the queue (queue depth and age, ingest states):
  collectors the apps register here, the way they register their health checks (health.py),
  since core may not import them.

Labels hold names from code only (a route's name, never its path, which may carry a username).
"""

import hmac
import os
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from backgroundmusic.core import clock

MULTIPROCESS_DIRECTORY = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def process_identifier() -> str:
    """Names this process's files in PROMETHEUS_MULTIPROC_DIR. The host name is in it because
    containers sharing one directory (deploy/compose.yaml) each count process ids from 1."""
    return f"{socket.gethostname().replace('_', '-')}-{os.getpid()}"


if MULTIPROCESS_DIRECTORY:
    # Before any metric is made: each one takes its value class when it is created.
    values.ValueClass = values.MultiProcessValue(process_identifier)

process_registry = CollectorRegistry()

REQUEST_SECONDS = Histogram(
    "backgroundmusic_http_request_duration_seconds",
    "Time from the first middleware to the response, by route name, method and status class.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=process_registry,
)
MAIL_MESSAGES = Counter(
    "backgroundmusic_mail_messages",
    "E-mail messages handed to the mail backend: sent, or failed (the backend raised).",
    ["outcome"],
    registry=process_registry,
)

KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "unmatched"


def label_route(request: HttpRequest, name: str) -> None:
    """Names the route of a request answered before URL resolution (a middleware's own answer)."""
    request.metrics_route = name  # type: ignore[attr-defined]


def route_label(request: HttpRequest) -> str:
    labelled = getattr(request, "metrics_route", None)
    if labelled:
        return str(labelled)
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNMATCHED_ROUTE
    # An unnamed route falls back to its pattern ("u/<str:username>/"), never the path.
    return match.view_name or match.route


def request_observe(*, request: HttpRequest, status_code: int, seconds: float) -> None:
    method = request.method if request.method in KNOWN_METHODS else "other"
    REQUEST_SECONDS.labels(
        route=route_label(request), method=method, status=f"{status_code // 100}xx"
    ).observe(seconds)


ScrapeCollector = Callable[[], Iterable[Metric]]
_scrape_collectors: dict[str, ScrapeCollector] = {}


def register_scrape_collector(name: str, collect: ScrapeCollector) -> None:
    """Adds metrics read at scrape time; registering a name again replaces its collector."""
    _scrape_collectors[name] = collect


@dataclass(frozen=True)
class QueueState:
    queue: str
    depth: int  # jobs ready to run, not started
    oldest_enqueued_at: datetime | None


def task_queue_states() -> list[QueueState]:
    """Jobs waiting in each queue of the default task backend, whichever backend it is."""
    from django_tasks_rq.backend import RQBackend

    backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
    queue_names = sorted(backend.queues) if backend.queues else ["default"]
    if isinstance(backend, RQBackend):
        return [_rq_queue_state(name) for name in queue_names]
    return _database_queue_states(queue_names)


def _database_queue_states(queue_names: list[str]) -> list[QueueState]:
    from django.db.models import Count, Min
    from django_tasks_db.models import DBTaskResult

    rows = {
        row["queue_name"]: row
        for row in DBTaskResult.objects.ready()
        .filter(backend_name=DEFAULT_TASK_BACKEND_ALIAS)
        .values("queue_name")
        .annotate(depth=Count("id"), oldest=Min("enqueued_at"))
        .order_by()
    }
    return [
        QueueState(
            queue=name,
            depth=rows[name]["depth"] if name in rows else 0,
            oldest_enqueued_at=rows[name]["oldest"] if name in rows else None,
        )
        for name in queue_names
    ]


def _rq_queue_state(name: str) -> QueueState:
    import django_rq

    queue = django_rq.get_queue(name)
    # RQ's queue is a list in enqueue order: its head waited longest.
    head = queue.get_jobs(offset=0, length=1)
    return QueueState(
        queue=name,
        depth=queue.count,
        oldest_enqueued_at=head[0].enqueued_at if head else None,
    )


def _task_queue_metrics() -> Iterable[Metric]:
    depth = GaugeMetricFamily(
        "backgroundmusic_task_queue_depth", "Jobs ready to run and not started.", labels=["queue"]
    )
    age = GaugeMetricFamily(
        "backgroundmusic_task_queue_oldest_age_seconds",
        "Seconds since the oldest job still waiting was enqueued (0: none waits).",
        labels=["queue"],
    )
    now = clock.now()
    for state in task_queue_states():
        depth.add_metric([state.queue], state.depth)
        waited = (now - state.oldest_enqueued_at).total_seconds() if state.oldest_enqueued_at else 0
        age.add_metric([state.queue], max(waited, 0.0))
    if settings.TASKS_BACKEND != "rq":
        return [depth, age]
    from backgroundmusic.core.models import OutboxJob

    outbox = GaugeMetricFamily(
        "backgroundmusic_task_outbox_jobs",
        "Jobs committed and not yet in Redis (a worker pushes those over a minute old).",
    )
    outbox.add_metric([], OutboxJob.objects.count())
    return [depth, age, outbox]


register_scrape_collector("task_queue", _task_queue_metrics)


class _Scrape:
    """What one scrape reads: the processes' counts, then every registered collector."""

    def collect(self) -> Iterable[Metric]:
        if MULTIPROCESS_DIRECTORY:
            yield from MultiProcessCollector(None, path=MULTIPROCESS_DIRECTORY).collect()
        else:
            yield from process_registry.collect()
        for collect in list(_scrape_collectors.values()):
            yield from collect()


def metrics_exposition() -> tuple[bytes, str]:
    """The text a scrape answers, and its content type."""
    return generate_latest(_Scrape()), CONTENT_TYPE_LATEST  # type: ignore[arg-type]


def scrape_refusal(*, authorization: str) -> int | None:
    """The status refusing a scrape, or None to answer it: 404 while no METRICS_TOKEN is set (the
    endpoint is off), 401 without the bearer token. Compared in constant time."""
    token = settings.METRICS_TOKEN
    if not token:
        return 404
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), token.encode()
    ):
        return 401
    return None


def multiprocess_directory_prune() -> None:
    """Removes the files of this host's processes that have ended (a restart's leftovers): their
    counts would otherwise be added to every scrape as long as the directory lives."""
    if not MULTIPROCESS_DIRECTORY:
        return
    host_prefix = process_identifier().rsplit("-", 1)[0] + "-"
    for path in Path(MULTIPROCESS_DIRECTORY).glob("*.db"):
        owner = path.stem.rsplit("_", 1)[-1]
        if not owner.startswith(host_prefix):
            continue
        pid = owner.removeprefix(host_prefix)
        if pid.isdigit() and not _process_running(int(pid)):
            path.unlink(missing_ok=True)


def _process_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def process_ended(pid: int) -> None:
    """A gunicorn worker ended: its live gauges leave the sums (its counters stay)."""
    if MULTIPROCESS_DIRECTORY:
        host = process_identifier().rsplit("-", 1)[0]
        mark_process_dead(f"{host}-{pid}", MULTIPROCESS_DIRECTORY)


class RequestMetricsMiddleware:
    """Times every request, the beacon and static files too, so it stands first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        request_observe(
            request=request,
            status_code=response.status_code,
            seconds=time.perf_counter() - started,
        )
        return response
