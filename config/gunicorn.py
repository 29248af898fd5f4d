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


def on_starting(server: Any) -> None:
    """Counts left by the processes of an earlier run would be added to every scrape."""
    from backgroundmusic.core.metrics import multiprocess_directory_prune

    multiprocess_directory_prune()


def worker_exit(server: Any, worker: Any) -> None:
    """A stopping worker writes the analytics events it still holds (analytics/buffer.py)."""
    from backgroundmusic.analytics.buffer import event_buffer

    event_buffer.close()


def child_exit(server: Any, worker: Any) -> None:
    """A worker that ended (stopped, killed, restarted): its live gauges leave the sums."""
    from backgroundmusic.core.metrics import process_ended

    process_ended(worker.pid)
