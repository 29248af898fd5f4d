"""gunicorn settings shared by `make run` (bin/run-embedded), the benches and deployments."""

from typing import Any


def worker_exit(server: Any, worker: Any) -> None:
    """A stopping worker writes the analytics events it still holds (analytics/buffer.py)."""
    from backgroundmusic.analytics.buffer import event_buffer

    event_buffer.close()
