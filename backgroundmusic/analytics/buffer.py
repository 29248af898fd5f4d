"""Batches events in memory so a burst of beacons costs one INSERT (COPY on PostgreSQL) per
batch, not one per event.

Each process has one `event_buffer`. A request only queues events: when ANALYTICS_BATCH_SIZE are
waiting it wakes the flushing thread, which otherwise writes every ANALYTICS_FLUSH_SECONDS (0 turns
the thread off: tests call flush()). What is left is written at worker exit (config/gunicorn.py)
and at process exit.

One event that cannot be written does not stop the others:
- a failure tied to rows (a value the driver cannot encode, or one the database refuses: DataError,
  IntegrityError) is narrowed down by halving the batch; each event that fails alone is dropped,
  counted, and logged by error class only, because a database's message quotes the row;
- any other failure (the database does not answer, a table is missing) keeps the events for the
  next flush. The backlog, events waiting plus those being written, is held to
  ANALYTICS_MAX_BACKLOG: a beacon that would take it past that is refused whole (the beacon view
  answers 503) and its events are counted as dropped.

At write time, a pseudonym whose account has since restricted processing or withdrawn analytics
consent is dropped from the events (they fall back to the cookieless key): a beacon from an old
tab that still carries the cookie is then not identified.

`buffer_health()` is this process's "analytics" part of /healthz (registered in apps.py); the
backlog and the events written and dropped are counted for /metrics too (metrics.py).
"""

import atexit
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import (
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connections,
    transaction,
)

from backgroundmusic.analytics import metrics
from backgroundmusic.analytics.models import Event
from backgroundmusic.core import clock
from backgroundmusic.core.health import HealthState

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
# Errors that name a value of some row; whatever else fails keeps the rows for the next flush.
ROW_ERRORS = (UnicodeError, DataError, IntegrityError)
# Writes failing this long with no success between make the analytics part of /healthz down;
# a shorter failure (a database restart) is retried without alarm.
FAILING_AFTER = timedelta(seconds=10)

Queued = tuple[Event, str]  # an event and the cookieless key to use if its pseudonym is revoked


def _drop_revoked_pseudonyms(batch: list[Queued]) -> None:
    from backgroundmusic.analytics.identity import pseudonyms_not_allowed

    pseudonyms = {row.pseudonym for row, _key in batch if row.pseudonym}
    revoked = pseudonyms_not_allowed(pseudonyms) if pseudonyms else set()
    for row, fallback_key in batch:
        if row.pseudonym in revoked:
            row.pseudonym = ""
            row.visitor_key = fallback_key


def _write(rows: list[Event]) -> None:
    """Writes all the rows or none, so a failed part can be retried or halved."""
    alias = Event.objects.db
    connection = connections[alias]
    with transaction.atomic(using=alias):
        if connection.vendor == "postgresql":
            table = connection.ops.quote_name(Event._meta.db_table)
            columns = ", ".join(connection.ops.quote_name(c) for c in COLUMNS)
            statement = f"COPY {table} ({columns}) FROM STDIN"
            # COPY goes around Django's cursor wrapper: translate psycopg's errors into Django's.
            with (
                connection.wrap_database_errors,
                connection.cursor() as cursor,
                cursor.copy(statement) as copy,  # type: ignore[attr-defined]
            ):
                for row in rows:
                    copy.write_row([getattr(row, column) for column in COLUMNS])
        else:
            Event.objects.bulk_create(rows, batch_size=500)


@dataclass
class _Outcome:
    written: int
    unwritable: list[str]  # the error class of each dropped event
    kept: list[Queued]  # not written, for the next flush
    failure: Exception | None  # what stopped the write, when something was kept


def _write_isolating(batch: list[Queued]) -> _Outcome:
    """Writes the batch in one statement, or, on a failure tied to rows, its halves in turn down to
    the single events that fail alone. Stops at the first failure of another kind."""
    outcome = _Outcome(written=0, unwritable=[], kept=[], failure=None)
    parts = [batch]  # a stack: the next part to write is last
    while parts:
        part = parts.pop()
        try:
            _write([row for row, _key in part])
        except ROW_ERRORS as error:
            if len(part) == 1:
                outcome.unwritable.append(type(error).__name__)
            else:
                middle = len(part) // 2
                parts += [part[middle:], part[:middle]]
        except Exception as error:
            outcome.kept = part + [queued for rest in reversed(parts) for queued in rest]
            outcome.failure = error
            break
        else:
            outcome.written += len(part)
    return outcome


def _described(error: Exception) -> str:
    """The error for the log: an outage's message names the server, any other may quote a row."""
    if isinstance(error, OperationalError | InterfaceError):
        return f"{type(error).__name__}: {error}"
    return type(error).__name__


@dataclass(frozen=True)
class BufferState:
    backlog: int  # events waiting or being written
    dropped_unwritable: int  # events a write refused, since the process started
    dropped_overflow: int  # events refused because the backlog was full
    last_write_at: datetime | None  # the last flush that kept nothing for later
    last_failure_at: datetime | None
    consecutive_failures: int
    failing_since: datetime | None  # the first failure since the last good flush


class EventBuffer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._pending: list[Queued] = []
        self._in_flight = 0
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self._forget_state()

    def _forget_state(self) -> None:
        self._dropped_unwritable = 0
        self._dropped_overflow = 0
        self._overflowing = False
        self._last_write_at: datetime | None = None
        self._last_failure_at: datetime | None = None
        self._consecutive_failures = 0
        self._failing_since: datetime | None = None

    def add(self, rows: list[Event], *, fallback_key: str) -> bool:
        """Queues the rows, all or none: False when they would take the backlog past
        ANALYTICS_MAX_BACKLOG (they are dropped and counted). Never writes: a request must not
        wait for the database, nor fail with it; a full batch wakes the flushing thread."""
        with self._lock:
            backlog = len(self._pending) + self._in_flight
            accepted = backlog + len(rows) <= settings.ANALYTICS_MAX_BACKLOG
            started_overflowing = not accepted and not self._overflowing
            self._overflowing = not accepted
            if accepted:
                self._pending.extend((row, fallback_key) for row in rows)
            else:
                self._dropped_overflow += len(rows)
                metrics.DROPPED_EVENTS.labels(reason="overflow").inc(len(rows))
            full = len(self._pending) >= settings.ANALYTICS_BATCH_SIZE
            metrics.BUFFERED_EVENTS.set(len(self._pending) + self._in_flight)
        if started_overflowing:
            logger.warning(
                "analytics: %d events are waiting to be written; new events are dropped", backlog
            )
        self._ensure_thread()
        if full:
            self._wake.set()
        return accepted

    def discard(self) -> int:
        """Drops what is waiting, unwritten, and forgets the counts (between tests); returns how
        many events were dropped."""
        with self._lock:
            dropped, self._pending = len(self._pending), []
            self._forget_state()
            metrics.BUFFERED_EVENTS.set(self._in_flight)
        return dropped

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def state(self) -> BufferState:
        with self._lock:
            return BufferState(
                backlog=len(self._pending) + self._in_flight,
                dropped_unwritable=self._dropped_unwritable,
                dropped_overflow=self._dropped_overflow,
                last_write_at=self._last_write_at,
                last_failure_at=self._last_failure_at,
                consecutive_failures=self._consecutive_failures,
                failing_since=self._failing_since,
            )

    def flush(self) -> int:
        """Writes what is waiting, dropping the events that cannot be written; returns the number
        written. When the write fails for a reason not tied to rows, keeps the unwritten events
        for the next flush and raises that error."""
        with self._flush_lock:
            with self._lock:
                batch, self._pending = self._pending, []
                self._in_flight = len(batch)
            if not batch:
                return 0
            try:
                _drop_revoked_pseudonyms(batch)
            except Exception as error:
                outcome = _Outcome(written=0, unwritable=[], kept=batch, failure=error)
            else:
                outcome = _write_isolating(batch)
            self._record(outcome)
        if outcome.unwritable:
            logger.warning(
                "analytics: %d of %d events could not be written and were dropped (%s)",
                len(outcome.unwritable),
                len(batch),
                ", ".join(sorted(set(outcome.unwritable))),
            )
        if outcome.failure is not None:
            logger.error(
                "analytics: %d events kept for the next flush, the write failed (%s)",
                len(outcome.kept),
                _described(outcome.failure),
            )
            raise outcome.failure
        return outcome.written

    def _record(self, outcome: _Outcome) -> None:
        now = clock.now()
        with self._lock:
            self._pending[:0] = outcome.kept
            self._in_flight = 0
            self._dropped_unwritable += len(outcome.unwritable)
            metrics.BUFFERED_EVENTS.set(len(self._pending))
            metrics.WRITTEN_EVENTS.inc(outcome.written)
            if outcome.unwritable:
                metrics.DROPPED_EVENTS.labels(reason="unwritable").inc(len(outcome.unwritable))
            if outcome.failure is None:
                self._last_write_at = now
                self._consecutive_failures = 0
                self._failing_since = None
            else:
                self._last_failure_at = now
                self._consecutive_failures += 1
                self._failing_since = self._failing_since or now

    def close(self) -> None:
        """Stops the flushing thread and writes what is left (worker and process exit)."""
        self._closed.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        try:
            self.flush()
        except Exception:
            # flush() logged why; the process is ending, so what it kept is lost.
            logger.error("analytics: %d events lost at exit", self.pending())

    def _ensure_thread(self) -> None:
        interval = float(settings.ANALYTICS_FLUSH_SECONDS)
        if interval <= 0 or self._closed.is_set():
            return
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(
                target=self._run, args=(interval,), name="analytics-flush", daemon=True
            )
            self._thread.start()

    def _run(self, interval: float) -> None:
        try:
            while not self._closed.is_set():
                self._wake.wait(interval)
                self._wake.clear()
                try:
                    self.flush()
                except Exception:
                    # Logged and kept by flush(). Wait the whole interval before trying again,
                    # however full the batch: a database that is down must not be hammered.
                    self._closed.wait(interval)
                finally:
                    for connection in connections.all(initialized_only=True):
                        connection.close_if_unusable_or_obsolete()
        finally:
            connections.close_all()


def buffer_health() -> HealthState:
    """Not ok while this process's writes have kept failing for FAILING_AFTER. Counts and times
    only: /healthz is public."""
    state = event_buffer.state()
    failing = state.failing_since is not None and clock.now() - state.failing_since >= FAILING_AFTER
    return HealthState(
        ok=not failing,
        facts={
            "backlog": state.backlog,
            "dropped_unwritable": state.dropped_unwritable,
            "dropped_overflow": state.dropped_overflow,
            "last_write_at": state.last_write_at.isoformat() if state.last_write_at else None,
            "last_failure_at": state.last_failure_at.isoformat() if state.last_failure_at else None,
            "consecutive_failures": state.consecutive_failures,
        },
    )


event_buffer = EventBuffer()
atexit.register(event_buffer.close)
