"""gunicorn settings shared by `make run` (bin/run-embedded), the benches and deployments.

With PROMETHEUS_MULTIPROC_DIR set (docs/operations.md "Metrics"), each worker counts into that
directory and any worker's /metrics answer adds them all up (core/metrics.py).
"""

from typing import Any


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
