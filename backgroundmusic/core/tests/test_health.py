import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django_tasks_db.models import DBTaskResult

from backgroundmusic.core import clock, health
from backgroundmusic.core.health import HealthState
from backgroundmusic.core.tasks import prune_schedule_slots
from config.storage import s3_storage

PROJECT_ROOT = Path(__file__).resolve().parents[3]
PARTS = ("database", "tasks", "storage")
# The analytics part (registered by the analytics app) of a process that has written nothing.
ANALYTICS_IDLE = {
    "status": "ok",
    "backlog": 0,
    "dropped_unwritable": 0,
    "dropped_overflow": 0,
    "last_write_at": None,
    "last_failure_at": None,
    "consecutive_failures": 0,
}


def reported_down(*down: str) -> dict[str, object]:
    """What /healthz answers when the named core parts are down and the others ok."""
    return {
        "status": "down",
        **{part: "down" if part in down else "ok" for part in PARTS},
        "analytics": ANALYTICS_IDLE,
        "key_store": {"status": "ok"},
    }


@pytest.mark.django_db
def test_healthz_reports_every_part_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "tasks": "ok",
        "storage": "ok",
        "analytics": ANALYTICS_IDLE,
        "key_store": {"status": "ok"},
    }
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_healthz_names_tasks_when_a_job_has_waited_too_long(client):
    result = prune_schedule_slots.enqueue()
    DBTaskResult.objects.filter(pk=result.id).update(enqueued_at=clock.now() - timedelta(minutes=6))
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (503, reported_down("tasks"))


@pytest.mark.django_db(transaction=True)
def test_healthz_on_redis_names_tasks_when_a_job_has_waited_too_long_or_redis_is_gone(
    client, rq_tasks, settings
):
    prune_schedule_slots.enqueue()
    assert client.get("/healthz").json()["tasks"] == "ok"
    with clock.frozen_at(clock.now() + timedelta(minutes=6)):
        response = client.get("/healthz")
    assert (response.status_code, response.json()) == (503, reported_down("tasks"))

    rq_tasks.flushdb()
    assert client.get("/healthz").json()["tasks"] == "ok"
    settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:1/0"}}
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (503, reported_down("tasks"))


@pytest.mark.django_db
def test_healthz_names_the_storage_when_media_root_cannot_be_a_folder(client, settings, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    settings.MEDIA_ROOT = blocker / "media"
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (503, reported_down("storage"))


@pytest.mark.django_db
def test_healthz_on_s3_storage_asks_the_bucket(client, settings, bucket, s3_double_endpoint):
    assert client.get("/healthz").json()["storage"] == "ok"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": s3_storage(
            bucket="bm-no-such-bucket",
            endpoint_url=s3_double_endpoint,
            region="us-east-1",
            access_key="test-double",
            secret_key="test-double",
        ),
    }
    response = client.get("/healthz")
    assert (response.status_code, response.json()["storage"]) == (503, "down")


def test_healthz_names_the_database_when_it_is_unreachable(tmp_path):
    # A separate process with a database URL nothing listens on: the real failure, not a stub.
    script = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/healthz');"
        "print(r.status_code, json.dumps(r.json(), sort_keys=True))"
    )
    # The key store stays a file under VAR_DIR, which answers: only the main database is down.
    env = {
        **{name: value for name, value in os.environ.items() if name != "KEYS_DATABASE_URL"},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:9/unreachable",
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
    assert json.loads(body) == reported_down("database", "tasks")


@pytest.mark.django_db
def test_a_registered_part_that_is_down_makes_healthz_503_with_its_facts(client, monkeypatch):
    monkeypatch.setattr(health, "_checks", health.registered_health_checks())
    health.register_health_check("probe", lambda: HealthState(ok=False, facts={"waiting": 7}))
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (
        503,
        {**reported_down(), "probe": {"status": "down", "waiting": 7}},
    )


@pytest.mark.django_db
def test_a_registered_check_that_breaks_reports_its_part_down_not_500(client, monkeypatch, caplog):
    def broken() -> HealthState:
        raise RuntimeError("the check itself is broken")

    monkeypatch.setattr(health, "_checks", health.registered_health_checks())
    health.register_health_check("probe", broken)
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (
        503,
        {**reported_down(), "probe": {"status": "down"}},
    )
    assert "the health check probe failed" in caplog.text
