"""The event buffer: a row that cannot be written, a write that keeps failing, the bounded
backlog, no writing inside a request, and the flushing thread."""

import json
import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import DatabaseError, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from backgroundmusic.analytics.buffer import FAILING_AFTER, EventBuffer, event_buffer
from backgroundmusic.analytics.models import Event, EventKind
from backgroundmusic.core import clock

pytestmark = pytest.mark.django_db(databases="__all__")

PROJECT_ROOT = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 12, 4, 6, 0, tzinfo=UTC)
KEY = "k" * 64
# Stands for the visitor's text in a row: it must never reach the log.
SECRET = "private-page-of-someone"
HEALTHY = {
    "status": "ok",
    "backlog": 0,
    "dropped_unwritable": 0,
    "dropped_overflow": 0,
    "last_write_at": None,
    "last_failure_at": None,
    "consecutive_failures": 0,
}


def event(path: str, **fields) -> Event:
    defaults = {"kind": EventKind.VIEW, "occurred_at": NOW, "visitor_key": KEY}
    return Event(view_id=uuid.uuid4(), path=path, **{**defaults, **fields})


def good_events(count: int, prefix: str = "/catalog/") -> list[Event]:
    return [event(f"{prefix}{number}/") for number in range(count)]


def stored_paths() -> list[str]:
    return sorted(Event.objects.values_list("path", flat=True))


def buffer_log(caplog) -> list[logging.LogRecord]:
    return [
        record for record in caplog.records if record.name == "backgroundmusic.analytics.buffer"
    ]


def analytics_health(client: Client) -> tuple[int, dict]:
    response = client.get("/healthz")
    return response.status_code, response.json()["analytics"]


def table_renamed(old: str, new: str) -> None:
    """A real failure of every write: the events table is not where the model says."""
    connection = connections[Event.objects.db]
    old, new = connection.ops.quote_name(old), connection.ops.quote_name(new)
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {old} RENAME TO {new}")


POISONS = {
    # Refused by the driver before the database sees it (UnicodeEncodeError): a class of text
    # the edge validation missed.
    "lone_surrogate": lambda: event(f"/{SECRET}/\ud800/"),
    # Refused by the database itself (IntegrityError: engaged time cannot be negative).
    "check_constraint": lambda: event(f"/{SECRET}/", kind=EventKind.ENGAGE, engaged_ms=-1),
}


@pytest.mark.parametrize("poison", sorted(POISONS))
def test_a_row_that_cannot_be_written_is_dropped_and_the_others_are_stored(poison, caplog, client):
    good = good_events(6)
    event_buffer.add(good[:3], fallback_key=KEY)
    event_buffer.add([POISONS[poison]()], fallback_key=KEY)
    event_buffer.add(good[3:], fallback_key=KEY)
    with caplog.at_level(logging.DEBUG), clock.frozen_at(NOW):
        assert event_buffer.flush() == 6
    assert stored_paths() == sorted(row.path for row in good)
    state = event_buffer.state()
    assert (state.backlog, state.dropped_unwritable, state.dropped_overflow) == (0, 1, 0)
    assert (state.consecutive_failures, state.last_write_at) == (0, NOW)
    [record] = buffer_log(caplog)
    assert record.levelname == "WARNING"
    assert record.exc_info is None
    assert record.getMessage().startswith("analytics: 1 of 7 events could not be written")
    assert SECRET not in caplog.text
    with clock.frozen_at(NOW):
        health = client.get("/healthz")
    assert (health.status_code, health.json()["analytics"]) == (
        200,
        {**HEALTHY, "dropped_unwritable": 1, "last_write_at": "2026-12-04T06:00:00+00:00"},
    )
    assert SECRET not in health.content.decode()
    # Nothing is left to poison the next flush.
    assert event_buffer.flush() == 0
    event_buffer.add(good_events(1, prefix="/later/"), fallback_key=KEY)
    assert event_buffer.flush() == 1


def test_rows_that_cannot_be_written_are_found_among_many():
    rows = good_events(200)
    poisoned = {17: POISONS["lone_surrogate"](), 150: POISONS["check_constraint"]()}
    batch = [poisoned.get(number, row) for number, row in enumerate(rows)]
    event_buffer.add(batch, fallback_key=KEY)
    assert event_buffer.flush() == 198
    assert stored_paths() == sorted(
        row.path for number, row in enumerate(rows) if number not in poisoned
    )
    assert (event_buffer.pending(), event_buffer.state().dropped_unwritable) == (0, 2)


def test_a_batch_of_nothing_but_unwritable_rows_is_dropped_whole():
    event_buffer.add([POISONS["lone_surrogate"]() for _ in range(3)], fallback_key=KEY)
    assert event_buffer.flush() == 0
    assert (Event.objects.count(), event_buffer.pending()) == (0, 0)
    assert event_buffer.state().dropped_unwritable == 3


def test_a_write_that_keeps_failing_keeps_the_events_and_health_says_so(client, caplog):
    table = Event._meta.db_table
    rows = good_events(3)
    event_buffer.add(rows, fallback_key=KEY)
    table_renamed(table, f"{table}_away")
    with clock.frozen_at(NOW), pytest.raises(DatabaseError):
        event_buffer.flush()
    # Kept whole for the next flush, nothing dropped; a short failure is not yet an alarm.
    assert event_buffer.pending() == 3
    with clock.frozen_at(NOW + FAILING_AFTER - timedelta(seconds=1)):
        assert analytics_health(client) == (
            200,
            {
                **HEALTHY,
                "backlog": 3,
                "last_failure_at": "2026-12-04T06:00:00+00:00",
                "consecutive_failures": 1,
            },
        )
    later = NOW + FAILING_AFTER
    with clock.frozen_at(later), pytest.raises(DatabaseError):
        event_buffer.flush()
    with clock.frozen_at(later):
        response = client.get("/healthz")
    assert (response.status_code, response.json()["status"]) == (503, "down")
    assert response.json()["analytics"] == {
        **HEALTHY,
        "status": "down",
        "backlog": 3,
        "last_failure_at": "2026-12-04T06:00:10+00:00",
        "consecutive_failures": 2,
    }
    assert {"database", "tasks", "storage"} <= response.json().keys()
    assert all(response.json()[part] == "ok" for part in ("database", "tasks", "storage"))
    # The failure is logged with its class only (the database's message may quote a row).
    assert [record.levelname for record in buffer_log(caplog)] == ["ERROR", "ERROR"]
    assert (
        buffer_log(caplog)[0]
        .getMessage()
        .startswith("analytics: 3 events kept for the next flush, the write failed (")
    )

    table_renamed(f"{table}_away", table)
    recovered = later + timedelta(seconds=1)
    with clock.frozen_at(recovered):
        assert event_buffer.flush() == 3
        assert analytics_health(client) == (
            200,
            {
                **HEALTHY,
                "last_write_at": "2026-12-04T06:00:11+00:00",
                "last_failure_at": "2026-12-04T06:00:10+00:00",
            },
        )
    assert stored_paths() == sorted(row.path for row in rows)


def test_events_kept_after_a_failure_count_toward_the_backlog(settings):
    settings.ANALYTICS_MAX_BACKLOG = 5
    table = Event._meta.db_table
    assert event_buffer.add(good_events(4), fallback_key=KEY)
    table_renamed(table, f"{table}_away")
    with pytest.raises(DatabaseError):
        event_buffer.flush()
    assert event_buffer.add(good_events(2, prefix="/more/"), fallback_key=KEY) is False
    assert event_buffer.add(good_events(1, prefix="/one/"), fallback_key=KEY) is True
    table_renamed(f"{table}_away", table)
    assert event_buffer.flush() == 5
    state = event_buffer.state()
    assert (state.backlog, state.dropped_overflow, state.dropped_unwritable) == (0, 2, 0)


def test_the_backlog_is_bounded_and_what_is_refused_is_counted(settings, caplog):
    settings.ANALYTICS_MAX_BACKLOG = 10
    assert event_buffer.add(good_events(4, "/a/"), fallback_key=KEY) is True
    assert event_buffer.add(good_events(4, "/b/"), fallback_key=KEY) is True
    assert event_buffer.add(good_events(3, "/c/"), fallback_key=KEY) is False  # 11 > 10
    assert event_buffer.add(good_events(3, "/d/"), fallback_key=KEY) is False
    assert event_buffer.add(good_events(2, "/e/"), fallback_key=KEY) is True  # exactly 10
    assert event_buffer.add(good_events(1, "/f/"), fallback_key=KEY) is False
    state = event_buffer.state()
    assert (state.backlog, state.dropped_overflow, state.dropped_unwritable) == (10, 7, 0)
    # One warning when dropping starts, not one per beacon.
    assert [record.getMessage() for record in buffer_log(caplog)] == [
        "analytics: 8 events are waiting to be written; new events are dropped",
        "analytics: 10 events are waiting to be written; new events are dropped",
    ]
    assert event_buffer.flush() == 10
    assert [path.split("/")[1] for path in stored_paths()] == ["a"] * 4 + ["b"] * 4 + ["e"] * 2
    assert event_buffer.add(good_events(1, "/g/"), fallback_key=KEY) is True
    assert event_buffer.state().dropped_overflow == 7


def test_a_beacon_beyond_the_backlog_is_503_and_queues_nothing(settings):
    settings.ANALYTICS_MAX_BACKLOG = 3
    beacon = {"events": [{"kind": "view", "view": str(uuid.uuid4()), "path": "/"}] * 2}
    body = json.dumps(beacon).encode()
    client = Client()
    assert client.post("/a/e", body, content_type="text/plain").status_code == 204
    response = client.post("/a/e", body, content_type="text/plain")
    assert (response.status_code, response.json()["error"]["code"]) == (503, "backlog_full")
    assert response["Cache-Control"] == "no-store"
    assert (event_buffer.pending(), event_buffer.state().dropped_overflow) == (2, 2)


def test_adding_never_writes_inside_the_request(settings):
    settings.ANALYTICS_BATCH_SIZE = 3
    analytics = connections[Event.objects.db]
    with CaptureQueriesContext(analytics) as queries:
        assert event_buffer.add(good_events(5), fallback_key=KEY) is True
    assert (len(queries), event_buffer.pending(), Event.objects.count()) == (0, 5, 0)
    beacon = {"events": [{"kind": "view", "view": str(uuid.uuid4()), "path": "/"}] * 4}
    body = json.dumps(beacon).encode()
    client = Client()
    client.post("/a/e", body, content_type="text/plain")  # looks up the day's salt once
    with CaptureQueriesContext(analytics) as queries:
        assert client.post("/a/e", body, content_type="text/plain").status_code == 204
    assert (len(queries), event_buffer.pending(), Event.objects.count()) == (0, 13, 0)


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_a_full_batch_wakes_the_flushing_thread_which_stops_on_close(settings):
    # An hour between rounds: only the full batch can make the thread write within the test.
    settings.ANALYTICS_FLUSH_SECONDS = 3600
    settings.ANALYTICS_BATCH_SIZE = 3
    buffer = EventBuffer()
    try:
        buffer.add(good_events(2), fallback_key=KEY)
        buffer.add(good_events(1, prefix="/third/"), fallback_key=KEY)
        deadline = time.monotonic() + 10
        while buffer.state().last_write_at is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert buffer.state().backlog == 0
        assert Event.objects.count() == 3
        buffer.add(good_events(1, prefix="/last/"), fallback_key=KEY)
    finally:
        buffer.close()
    assert Event.objects.filter(path="/last/0/").count() == 1
    assert "analytics-flush" not in {thread.name for thread in threading.enumerate()}


def test_a_database_outage_keeps_the_events_and_health_says_so(tmp_path):
    # A separate process whose database nothing listens on: the real failure, not a stub.
    script = """
import django, json
from datetime import UTC, datetime
django.setup()
from django.db import OperationalError
from django.test import Client
from backgroundmusic.analytics.buffer import FAILING_AFTER, event_buffer
from backgroundmusic.analytics.models import Event
from backgroundmusic.core import clock
start = datetime(2026, 12, 4, 6, 0, tzinfo=UTC)
rows = [Event(kind="view", occurred_at=start, view_id=f"{n:032x}", visitor_key="k" * 64, path="/")
        for n in range(3)]
event_buffer.add(rows, fallback_key="k" * 64)
for moment in (start, start + FAILING_AFTER):
    with clock.frozen_at(moment):
        try:
            event_buffer.flush()
        except OperationalError:
            pass
        else:
            raise SystemExit("the flush did not fail")
with clock.frozen_at(start + FAILING_AFTER):
    response = Client().get("/healthz")
print(response.status_code, json.dumps(response.json()["analytics"], sort_keys=True))
"""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:9/unreachable",
        "ANALYTICS_DATABASE_URL": "",
        "ANALYTICS_FLUSH_SECONDS": "0",
        "VAR_DIR": str(tmp_path),
    }
    completed = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    status, body = completed.stdout.strip().splitlines()[-1].split(" ", 1)
    assert status == "503"
    assert json.loads(body) == {
        **HEALTHY,
        "status": "down",
        "backlog": 3,
        "last_failure_at": "2026-12-04T06:00:10+00:00",
        "consecutive_failures": 2,
    }
    # The outage's message names the server, which helps; it quotes no event.
    assert (
        "events kept for the next flush, the write failed (OperationalError: " in completed.stderr
    )
