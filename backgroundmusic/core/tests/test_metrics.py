"""/metrics (core/metrics.py, decision 0042): closed to every caller without the token, exact
lines for known data, and no personal data in any label."""

import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.mail import send_mail
from django_tasks_db.models import DBTaskResult

from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.analytics.buffer import event_buffer
from backgroundmusic.analytics.models import Event
from backgroundmusic.core import clock
from backgroundmusic.core.tasks import prune_schedule_slots
from backgroundmusic.media.models import Master
from tests.callers import CALLERS

TOKEN = "t" * 24 + "0123456789abcdef"
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(client, token=TOKEN):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=1.0.0; charset=utf-8"
    return response.content.decode()


def lines(text, name):
    return [line for line in text.splitlines() if line.startswith(name + "{")]


def value(text, sample):
    """The value of one sample line (name and labels as written), 0 when it is not there."""
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.mark.django_db
@pytest.mark.parametrize("kind", CALLERS)
def test_every_caller_without_the_token_is_refused(metrics_on, caller_for, kind):
    client = caller_for(kind).client
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"backgroundmusic_" not in response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    "authorization",
    [
        f"Bearer {TOKEN[:-1]}x",
        f"Bearer {TOKEN}x",
        f"Basic {TOKEN}",
        TOKEN,
        "Bearer ",
        "Bearer дважды",
    ],
)
def test_a_wrong_token_is_refused(metrics_on, client, authorization):
    for method in ("get", "post"):
        response = getattr(client, method)("/metrics", HTTP_AUTHORIZATION=authorization)
        assert response.status_code == 401
        assert b"backgroundmusic_" not in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["anonymous", "owner", "privacy_officer"])
def test_without_a_configured_token_metrics_do_not_exist(settings, caller_for, kind):
    settings.METRICS_TOKEN = ""
    client = caller_for(kind).client
    for authorization in ("", "Bearer ", f"Bearer {TOKEN}"):
        assert client.get("/metrics", HTTP_AUTHORIZATION=authorization).status_code == 404
        assert client.post("/metrics", HTTP_AUTHORIZATION=authorization).status_code == 404


@pytest.mark.django_db
def test_the_token_reads_and_nothing_else_is_allowed(metrics_on, client):
    assert client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405
    assert client.head("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


@pytest.mark.django_db
def test_task_queue_depth_and_age_of_the_oldest_job(metrics_on, client):
    for _ in range(3):
        prune_schedule_slots.enqueue()
    DBTaskResult.objects.update(enqueued_at=NOW - timedelta(seconds=30))
    DBTaskResult.objects.filter(pk=DBTaskResult.objects.order_by("pk").values("pk")[:1]).update(
        enqueued_at=NOW - timedelta(seconds=95)
    )
    # Started and delayed jobs are not waiting.
    started = prune_schedule_slots.enqueue()
    DBTaskResult.objects.filter(pk=started.id).update(
        status="RUNNING", enqueued_at=NOW - timedelta(hours=1)
    )
    prune_schedule_slots.using(run_after=NOW + timedelta(days=365)).enqueue()
    with clock.frozen_at(NOW):
        text = scrape(client)
    assert lines(text, "backgroundmusic_task_queue_depth") == [
        'backgroundmusic_task_queue_depth{queue="default"} 3.0'
    ]
    assert lines(text, "backgroundmusic_task_queue_oldest_age_seconds") == [
        'backgroundmusic_task_queue_oldest_age_seconds{queue="default"} 95.0'
    ]


@pytest.mark.django_db
def test_an_empty_queue_is_zero_deep_and_zero_old(metrics_on, client):
    text = scrape(client)
    assert lines(text, "backgroundmusic_task_queue_depth") == [
        'backgroundmusic_task_queue_depth{queue="default"} 0.0'
    ]
    assert lines(text, "backgroundmusic_task_queue_oldest_age_seconds") == [
        'backgroundmusic_task_queue_oldest_age_seconds{queue="default"} 0.0'
    ]


@pytest.mark.django_db
def test_masters_by_ingest_state(metrics_on, client):
    states = ["uploaded", "processing", "processing", "ready", "ready", "ready", "failed"]
    for number, state in enumerate(states):
        Master.objects.create(
            sha256=f"{number:064x}",
            status=state,
            failure_reason="not audio" if state == "failed" else "",
            uploaded_at=NOW,
        )
    assert lines(scrape(client), "backgroundmusic_ingest_masters") == [
        'backgroundmusic_ingest_masters{state="uploaded"} 1.0',
        'backgroundmusic_ingest_masters{state="processing"} 2.0',
        'backgroundmusic_ingest_masters{state="ready"} 3.0',
        'backgroundmusic_ingest_masters{state="failed"} 1.0',
    ]


def beacon_body(count):
    events = [
        {"kind": "view", "view": str(uuid.uuid4()), "path": "/catalog/"} for _ in range(count)
    ]
    return json.dumps({"events": events}).encode()


@pytest.mark.django_db(databases="__all__")
def test_the_beacon_buffer_written_and_dropped(metrics_on, client, settings):
    event_buffer.discard()
    before = scrape(client)
    for _ in range(2):
        response = client.post("/a/e", beacon_body(2), content_type="text/plain")
        assert response.status_code == 204
    text = scrape(client)
    assert text.count("\nbackgroundmusic_analytics_buffer_events 4.0\n") == 1

    settings.ANALYTICS_MAX_BACKLOG = 5
    assert client.post("/a/e", beacon_body(2), content_type="text/plain").status_code == 503
    event_buffer.flush()
    text = scrape(client)
    assert "\nbackgroundmusic_analytics_buffer_events 0.0\n" in text
    assert Event.objects.count() == 4
    written = "backgroundmusic_analytics_events_written_total"
    assert value(text, written) - value(before, written) == 4
    dropped = 'backgroundmusic_analytics_events_dropped_total{reason="overflow"}'
    assert value(text, dropped) - value(before, dropped) == 2
    beacons = (
        "backgroundmusic_http_request_duration_seconds_count"
        '{method="POST",route="analytics:beacon",status="2xx"}'
    )
    assert value(text, beacons) - value(before, beacons) == 2


@pytest.mark.django_db
def test_request_latency_by_route_name_method_and_status_class(metrics_on, client):
    before = scrape(client)
    assert client.get("/contact/").status_code == 200
    assert client.get("/contact/").status_code == 200
    assert client.get("/no/such/page/").status_code == 404
    assert client.post("/contact/").status_code == 405
    text = scrape(client)
    expected = {
        '{method="GET",route="contact",status="2xx"}': 2,
        '{method="GET",route="unmatched",status="4xx"}': 1,
        '{method="POST",route="contact",status="4xx"}': 1,
    }
    for labels, count in expected.items():
        sample = "backgroundmusic_http_request_duration_seconds_count" + labels
        assert value(text, sample) - value(before, sample) == count
        bucket = (
            'backgroundmusic_http_request_duration_seconds_bucket{le="+Inf",'
            + labels.removeprefix("{")
        )
        assert value(text, bucket) - value(before, bucket) == count


@pytest.mark.django_db
def test_mail_sent_counts_what_leaves_the_machine(metrics_on, client, smtp_server):
    before = scrape(client)
    send_mail("One", "body", None, ["one@example.org"])
    send_mail("Two", "body", None, ["two@example.org", "three@example.org"])
    assert len(smtp_server.wait_for(2)) == 2
    text = scrape(client)
    sent = 'backgroundmusic_mail_messages_total{outcome="sent"}'
    assert value(text, sent) - value(before, sent) == 2
    assert mail.outbox == []


@pytest.mark.django_db
def test_mail_that_fails_is_counted_as_failed(metrics_on, client, settings):
    from tests.destinations import use_smtp
    from tests.smtp_server import free_port

    use_smtp(settings, host="127.0.0.1", port=free_port("127.0.0.1"))
    before = scrape(client)
    with pytest.raises(ConnectionRefusedError):
        send_mail("One", "body", None, ["one@example.org"])
    text = scrape(client)
    failed = 'backgroundmusic_mail_messages_total{outcome="failed"}'
    assert value(text, failed) - value(before, failed) == 1


@pytest.mark.django_db
def test_no_personal_data_in_any_label(metrics_on, client):
    person = UserFactory(username="quokkazebra7", email="quokka.zebra@example.org")
    client.force_login(person)
    assert client.get("/u/quokkazebra7/").status_code == 200
    client.logout()
    assert client.get("/u/quokkazebra7/").status_code == 404
    assert client.get("/u/quokkazebra7/?q=quokka.zebra@example.org").status_code == 404
    text = scrape(client)
    assert "quokka" not in text.lower()
    assert "@" not in text
    routes = set(re.findall(r'route="([^"]*)"', text))
    assert "accounts:public_profile" in routes
    assert all("/" not in route or "<" in route for route in routes)


@pytest.mark.django_db
def test_task_queue_depth_and_age_on_redis_and_the_outbox(
    metrics_on, client, rq_tasks, django_capture_on_commit_callbacks
):
    import django_rq

    rq_queue = django_rq.get_queue("default")
    assert lines(scrape(client), "backgroundmusic_task_queue_depth") == [
        'backgroundmusic_task_queue_depth{queue="default"} 0.0'
    ]
    with django_capture_on_commit_callbacks(execute=True):
        first = prune_schedule_slots.enqueue()
        prune_schedule_slots.enqueue()
    assert rq_queue.count == 2
    # One committed and not pushed yet: it waits in the outbox.
    prune_schedule_slots.enqueue()
    job = rq_queue.fetch_job(first.id)
    assert job is not None and job.enqueued_at is not None
    with clock.frozen_at(job.enqueued_at + timedelta(seconds=42)):
        text = scrape(client)
    assert lines(text, "backgroundmusic_task_queue_depth") == [
        'backgroundmusic_task_queue_depth{queue="default"} 2.0'
    ]
    assert lines(text, "backgroundmusic_task_queue_oldest_age_seconds") == [
        'backgroundmusic_task_queue_oldest_age_seconds{queue="default"} 42.0'
    ]
    assert value(text, "backgroundmusic_task_outbox_jobs") == 1
    assert DBTaskResult.objects.count() == 0


@pytest.mark.django_db
def test_behind_https_the_scrape_over_plain_http_is_not_redirected(metrics_on, client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/contact/").status_code == 301
    assert client.get("/metrics").status_code == 401
    assert "backgroundmusic_ingest_masters" in scrape(client)


def test_a_short_token_stops_the_project_at_start_up(tmp_path):
    from backgroundmusic.core.tests.test_settings import manage

    completed = manage("check", env={"VAR_DIR": str(tmp_path), "METRICS_TOKEN": "x" * 31})
    assert completed.returncode == 1
    assert completed.stderr.splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: "
        "METRICS_TOKEN must be at least 32 characters long."
    )
    assert (
        manage("check", env={"VAR_DIR": str(tmp_path), "METRICS_TOKEN": "x" * 32}).returncode == 0
    )
