"""The analytics buffer's part of /metrics (core/metrics.py), counted by each process's buffer
(buffer.py): events waiting to be written, written, dropped."""

from prometheus_client import Counter, Gauge

from backgroundmusic.core.metrics import process_registry

BUFFERED_EVENTS = Gauge(
    "backgroundmusic_analytics_buffer_events",
    "Analytics events waiting in the app servers' buffers or being written.",
    multiprocess_mode="livesum",
    registry=process_registry,
)
WRITTEN_EVENTS = Counter(
    "backgroundmusic_analytics_events_written",
    "Analytics events written to the database.",
    registry=process_registry,
)
DROPPED_EVENTS = Counter(
    "backgroundmusic_analytics_events_dropped",
    "Analytics events dropped: unwritable (the database refused the row) or overflow (the "
    "buffer was full and the beacon was refused).",
    ["reason"],
    registry=process_registry,
)
