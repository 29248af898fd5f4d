"""Batches events in memory so a burst of beacons costs one INSERT (COPY on PostgreSQL) per
batch, not one per event.

Each process has one `event_buffer`. It writes when ANALYTICS_BATCH_SIZE events are waiting, every
ANALYTICS_FLUSH_SECONDS from a daemon thread (0 turns the thread off: tests call flush()), and at
process exit. At write time, a pseudonym whose account has since restricted processing or
withdrawn analytics consent is dropped from the events (they fall back to the cookieless key): a
beacon from an old tab that still carries the cookie is then not identified.
"""

import atexit
import logging
import threading
import time

from django.conf import settings
from django.db import connections, transaction

from backgroundmusic.analytics.models import Event

logger = logging.getLogger(__name__)

COLUMNS = (
    "kind",
    "occurred_at",
    "view_id",
    "visitor_key",
    "pseudonym",
    "path",
    "referrer_host",
    "browser",
    "browser_major",
    "device",
    "screen",
    "country",
    "language",
    "engaged_ms",
)


def _revoked(pseudonyms: set[str]) -> set[str]:
    """The pseudonyms, among these, linked to an account that may no longer be identified."""
    from backgroundmusic.analytics.identity import pseudonyms_not_allowed

    return pseudonyms_not_allowed(pseudonyms) if pseudonyms else set()


def _write(rows: list[Event]) -> None:
    alias = Event.objects.db
    connection = connections[alias]
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Event._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(c) for c in COLUMNS)
        statement = f"COPY {table} ({columns}) FROM STDIN"
        with (
            transaction.atomic(using=alias),
            connection.cursor() as cursor,
            cursor.copy(statement) as copy,  # type: ignore[attr-defined]
        ):
            for row in rows:
                copy.write_row([getattr(row, column) for column in COLUMNS])
    else:
        Event.objects.bulk_create(rows, batch_size=500)


class EventBuffer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._pending: list[tuple[Event, str]] = []
        self._thread: threading.Thread | None = None

    def add(self, rows: list[Event], *, fallback_key: str) -> None:
        """Queues rows; `fallback_key` is the cookieless key to use if the pseudonym is revoked."""
        with self._lock:
            self._pending.extend((row, fallback_key) for row in rows)
            full = len(self._pending) >= settings.ANALYTICS_BATCH_SIZE
        self._ensure_thread()
        if full:
            self.flush()

    def discard(self) -> int:
        """Drops what is waiting, unwritten (between tests); returns how many events."""
        with self._lock:
            dropped, self._pending = len(self._pending), []
        return dropped

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def flush(self) -> int:
        """Writes what is waiting; returns the number of events written."""
        with self._flush_lock:
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch:
                return 0
            revoked = _revoked({row.pseudonym for row, _key in batch if row.pseudonym})
            rows = []
            for row, fallback_key in batch:
                if row.pseudonym in revoked:
                    row.pseudonym = ""
                    row.visitor_key = fallback_key
                rows.append(row)
            try:
                _write(rows)
            except Exception:
                with self._lock:
                    self._pending[:0] = batch  # kept for the next flush
                raise
            return len(rows)

    def _ensure_thread(self) -> None:
        interval = float(settings.ANALYTICS_FLUSH_SECONDS)
        if interval <= 0 or (self._thread is not None and self._thread.is_alive()):
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(
                target=self._run, args=(interval,), name="analytics-flush", daemon=True
            )
            self._thread.start()

    def _run(self, interval: float) -> None:
        while True:
            time.sleep(interval)
            try:
                self.flush()
            except Exception:
                # Kept for the next round; the database may be back by then.
                logger.exception("analytics events could not be written")
            finally:
                for connection in connections.all(initialized_only=True):
                    connection.close_if_unusable_or_obsolete()


event_buffer = EventBuffer()
atexit.register(event_buffer.flush)
