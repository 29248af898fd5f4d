"""gunicorn settings shared by `make run` (bin/run-embedded), the benches and deployments.

With PROMETHEUS_MULTIPROC_DIR set (docs/operations.md "Metrics"), each worker counts into that
directory and any worker's /metrics answer adds them all up (core/metrics.py).
"""

from typing import Any

# Longer than the upstream keepalive_timeout of deploy/nginx (60 s): the side that closes an idle
# connection must be nginx, else a request nginx sends as gunicorn closes it is lost — a GET is
# retried on the next server, a POST (a beacon, a form) answered 502. The embedded mode's
# browsers keep their idle connections as long; the threaded workers hold them in a poller, not
# in a thread.
keepalive = 75

# The master imports the site (and, in on_starting, the URLconf) before it opens its socket, and
# each worker is forked ready. Otherwise a started or restarted app server takes connections at
# once and holds them for about three seconds while each worker imports Django, then at its first
# request the URLconf (every view, the API, WeasyPrint): measured in `make load`, where an app
# server killed and started again made most of the pages slower than their goal. Until its socket
# is open nginx sends everything to the other app servers. New code therefore needs a restart,
# not a reload (HUP forks the code already loaded).
preload_app = True


def on_starting(server: Any) -> None:
    """Imports the URLconf, which Django leaves to the first request; closes any connection the
    imports opened, which the workers would otherwise share. Prunes the metrics files of ended
    processes: their counts would otherwise be added to every scrape."""
    from django.db import connections
    from django.urls import get_resolver

    from backgroundmusic.core.metrics import multiprocess_directory_prune

    get_resolver().url_patterns  # noqa: B018 - read for the import it makes
    connections.close_all()
    multiprocess_directory_prune()


def worker_exit(server: Any, worker: Any) -> None:
    """A stopping worker writes the analytics events it still holds (analytics/buffer.py)."""
    from backgroundmusic.analytics.buffer import event_buffer

    event_buffer.close()


def child_exit(server: Any, worker: Any) -> None:
    """A worker that ended (stopped, killed, restarted): its live gauges leave the sums."""
    from backgroundmusic.core.metrics import process_ended

    process_ended(worker.pid)
