import re
import socket
from datetime import UTC, datetime, timedelta

import django_rq
import pytest
from django.core.management import call_command
from django.db import transaction
from django_tasks import default_task_backend
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from backgroundmusic.core import clock
from backgroundmusic.core.mail import job_message_id
from backgroundmusic.core.models import OutboxJob, ScheduledRun, TaskWorker
from backgroundmusic.core.schedule import RecurringJob, latest_slot, schedule_due_jobs
from backgroundmusic.core.task_workers import abandoned_tasks_requeue, outbox_relay
from backgroundmusic.core.tasks import SCHEDULE_SLOT_RETENTION, prune_schedule_slots
from backgroundmusic.core.tests.fault_tasks import refuse

NIGHTLY = RecurringJob(
    name="prune", cron="17 3 * * *", task="backgroundmusic.core.tasks.prune_schedule_slots"
)


class Rollback(Exception):
    pass


@pytest.mark.django_db
def test_a_job_enqueued_in_a_transaction_that_rolls_back_never_exists():
    with pytest.raises(Rollback), transaction.atomic():
        prune_schedule_slots.enqueue()
        assert DBTaskResult.objects.count() == 1
        raise Rollback
    assert DBTaskResult.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_committed_job_is_run_by_the_worker():
    # The worker closes and reopens connections between jobs, as in production, which a test
    # wrapped in a transaction would not survive.
    result = prune_schedule_slots.enqueue()
    call_command("run_worker", batch=True, interval=0)
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == "SUCCESSFUL"
    assert row.return_value == 0


def test_latest_slot_is_the_most_recent_cron_time_not_after_now():
    now = datetime(2026, 3, 10, 3, 16, 59, 500, tzinfo=UTC)
    assert latest_slot("17 3 * * *", now) == datetime(2026, 3, 9, 3, 17, tzinfo=UTC)
    assert latest_slot("17 3 * * *", now + timedelta(seconds=1)) == datetime(
        2026, 3, 10, 3, 17, tzinfo=UTC
    )


@pytest.mark.django_db
def test_each_slot_is_enqueued_once_whoever_asks():
    with clock.frozen_at(datetime(2026, 3, 10, 4, 0, tzinfo=UTC)):
        first = schedule_due_jobs(jobs=[NIGHTLY])
        second = schedule_due_jobs(jobs=[NIGHTLY])  # a second scheduler, same slot
    assert [run.slot for run in first] == [datetime(2026, 3, 10, 3, 17, tzinfo=UTC)]
    assert second == []
    assert DBTaskResult.objects.count() == 1
    assert ScheduledRun.objects.get().task_result_id == str(DBTaskResult.objects.get().pk)

    with clock.frozen_at(datetime(2026, 3, 11, 3, 17, tzinfo=UTC)):
        third = schedule_due_jobs(jobs=[NIGHTLY])
    assert [run.slot for run in third] == [datetime(2026, 3, 11, 3, 17, tzinfo=UTC)]
    assert DBTaskResult.objects.count() == 2


@pytest.mark.django_db
def test_prune_keeps_two_weeks_of_slots_and_each_jobs_latest_and_no_job_row_goes():
    now = datetime(2026, 3, 30, 4, 0, tzinfo=UTC)
    old = now - SCHEDULE_SLOT_RETENTION - timedelta(days=1)
    recent = now - timedelta(days=1)
    for job, slot in [("nightly", old), ("nightly", recent), ("yearly", old - timedelta(days=1))]:
        ScheduledRun.objects.create(job=job, slot=slot, task_result_id="")
    ScheduledRun.objects.create(job="yearly", slot=old, task_result_id="")
    # Finished job rows name people by id: only the retention run deletes them (core/privacy.py).
    finished = prune_schedule_slots.enqueue()
    DBTaskResult.objects.filter(pk=finished.id).update(status="SUCCESSFUL", finished_at=old)
    with clock.frozen_at(now):
        assert prune_schedule_slots.call() == 2
    assert sorted(ScheduledRun.objects.values_list("job", "slot")) == [
        ("nightly", recent),
        ("yearly", old),
    ]
    assert list(DBTaskResult.objects.values_list("pk", "finished_at")) == [
        (DBTaskResult.objects.get(pk=finished.id).pk, old)
    ]


@pytest.mark.django_db(transaction=True)
def test_on_redis_a_job_reaches_the_queue_only_when_its_transaction_commits(rq_tasks):
    queue = django_rq.get_queue("default")
    with pytest.raises(Rollback), transaction.atomic():
        rolled_back = prune_schedule_slots.enqueue()
        raise Rollback
    assert queue.job_ids == []
    assert rq_tasks.keys("rq:job:*") == []

    with transaction.atomic():
        committed = prune_schedule_slots.enqueue()
        assert queue.job_ids == []
    assert queue.job_ids == [committed.id]
    assert rolled_back.id != committed.id

    outside = prune_schedule_slots.using(priority=-50).enqueue()  # no transaction: at once
    urgent = prune_schedule_slots.using(priority=100).enqueue()
    assert queue.job_ids == [urgent.id, committed.id, outside.id]


@pytest.mark.django_db(transaction=True)
def test_on_redis_the_slot_row_names_the_job_pushed_when_the_slot_commits(rq_tasks):
    with clock.frozen_at(datetime(2026, 3, 10, 4, 0, tzinfo=UTC)):
        [run] = schedule_due_jobs(jobs=[NIGHTLY])
        assert schedule_due_jobs(jobs=[NIGHTLY]) == []
    assert django_rq.get_queue("default").job_ids == [run.task_result_id]
    assert default_task_backend.get_result(run.task_result_id).status == TaskResultStatus.READY


@pytest.mark.django_db
def test_a_silent_database_workers_job_is_queued_again_and_fails_after_the_reruns(settings):
    now = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
    lost_after = timedelta(seconds=settings.TASKS_WORKER_LOST_AFTER)
    TaskWorker.objects.create(worker_id="alive", seen_at=now - lost_after)
    TaskWorker.objects.create(worker_id="dead", seen_at=now - lost_after - timedelta(seconds=1))
    TaskWorker.objects.create(worker_id="long gone", seen_at=now - timedelta(days=2))
    started = now - timedelta(minutes=10)

    def running(*worker_ids: str) -> str:
        result = prune_schedule_slots.enqueue()
        DBTaskResult.objects.filter(pk=result.id).update(
            status="RUNNING", started_at=started, worker_ids=list(worker_ids)
        )
        return str(result.id)

    busy = running("alive")
    orphan = running("dead")
    unnamed = running("never seen")
    exhausted = running("dead", "dead", "dead", "dead")
    waiting = str(prune_schedule_slots.enqueue().id)

    with clock.frozen_at(now):
        assert abandoned_tasks_requeue() == 2

    rows = {str(row.pk): row for row in DBTaskResult.objects.all()}
    assert {pk: rows[pk].status for pk in rows} == {
        busy: "RUNNING",
        orphan: "READY",
        unnamed: "READY",
        exhausted: "FAILED",
        waiting: "READY",
    }
    assert rows[orphan].worker_ids == ["dead"]  # the next claim adds its worker: attempts count
    assert rows[exhausted].exception_class_path == "backgroundmusic.core.task_workers.WorkerLost"
    assert rows[exhausted].finished_at == now
    assert sorted(TaskWorker.objects.values_list("worker_id", flat=True)) == ["alive", "dead"]


@pytest.mark.django_db(transaction=True)
def test_on_redis_a_job_that_raises_fails_once_as_on_the_database(rq_tasks, tmp_path):
    result = refuse.enqueue(folder=str(tmp_path))
    call_command("run_worker", batch=True)
    failed = default_task_backend.get_result(result.id)
    assert failed.status == TaskResultStatus.FAILED
    assert [error.exception_class_path for error in failed.errors] == ["builtins.ValueError"]
    assert [path.name for path in tmp_path.iterdir()] == ["attempt-1"]
    assert django_rq.get_queue("default").job_ids == []


@pytest.mark.django_db(transaction=True)
def test_on_redis_a_job_waits_in_the_outbox_until_its_commit_pushes_it(rq_tasks):
    queue = django_rq.get_queue("default")
    with transaction.atomic():
        result = prune_schedule_slots.using(priority=-5).enqueue()
        row = OutboxJob.objects.get()
        assert (row.job_id, row.task_path, row.queue_name, row.priority, row.run_after) == (
            result.id,
            "backgroundmusic.core.tasks.prune_schedule_slots",
            "default",
            -5,
            None,
        )
        assert row.args_kwargs == {"args": [], "kwargs": {}}
        assert queue.job_ids == []
    assert queue.job_ids == [result.id]
    assert OutboxJob.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_on_redis_a_job_committed_while_redis_is_down_is_pushed_later_once(
    rq_tasks, settings, caplog
):
    working = settings.RQ_QUEUES
    with socket.socket() as closed:  # a port nothing listens on: Redis is down
        closed.bind(("127.0.0.1", 0))
        settings.RQ_QUEUES = {"default": {"URL": f"redis://127.0.0.1:{closed.getsockname()[1]}/0"}}
    with transaction.atomic():
        result = refuse.enqueue(folder="/nowhere")
    assert "Error calling" in caplog.text  # Django's log of the failed push, nothing more
    assert list(OutboxJob.objects.values_list("job_id", flat=True)) == [result.id]

    settings.RQ_QUEUES = working
    queue = django_rq.get_queue("default")
    committed_at = OutboxJob.objects.get().created_at
    with clock.frozen_at(committed_at + timedelta(seconds=settings.TASKS_OUTBOX_GRACE)):
        assert outbox_relay() == 0  # not older than the grace yet: its own push may come
    assert queue.job_ids == []
    with clock.frozen_at(committed_at + timedelta(seconds=settings.TASKS_OUTBOX_GRACE + 1)):
        assert outbox_relay() == 1
        assert outbox_relay() == 0
    assert queue.job_ids == [result.id]
    job = queue.fetch_job(result.id)
    assert job is not None and job.kwargs == {"folder": "/nowhere"}
    assert OutboxJob.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_on_redis_an_outbox_row_of_a_job_redis_holds_is_deleted_not_pushed_again(
    rq_tasks, settings
):
    queue = django_rq.get_queue("default")
    result = prune_schedule_slots.enqueue()
    assert queue.job_ids == [result.id]
    # As when the process that pushed it died before deleting its row.
    OutboxJob.objects.create(
        job_id=result.id,
        task_path="backgroundmusic.core.tasks.prune_schedule_slots",
        queue_name="default",
        priority=0,
        args_kwargs={"args": [], "kwargs": {}},
        created_at=clock.now() - timedelta(seconds=settings.TASKS_OUTBOX_GRACE + 1),
    )
    assert outbox_relay() == 0
    assert queue.job_ids == [result.id]
    assert OutboxJob.objects.count() == 0


def test_a_jobs_message_id_is_the_same_for_one_record_and_tells_nothing_of_it(settings):
    settings.DEFAULT_FROM_EMAIL = "BACKGROUND MUSIC <noreply@mail.example.org>"
    first = job_message_id("licensing-notice", 1234)["Message-ID"]
    assert first == job_message_id("licensing-notice", 1234)["Message-ID"]
    others = {
        job_message_id("licensing-notice", 1235)["Message-ID"],
        job_message_id("data-export", 1234)["Message-ID"],
    }
    assert first not in others and len(others) == 2
    assert re.fullmatch(r"<[0-9a-f]{32}@mail\.example\.org>", first)
    assert "1234" not in first
