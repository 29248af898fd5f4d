from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from backgroundmusic.core import clock
from backgroundmusic.core.models import ScheduledRun
from backgroundmusic.core.schedule import RecurringJob, latest_slot, schedule_due_jobs
from backgroundmusic.core.tasks import SCHEDULE_SLOT_RETENTION, prune_schedule_slots

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
