"""Recurring jobs: declared in backgroundmusic/recurring.py, each slot enqueued exactly once.

Neither task backend schedules by itself, so any process may call `schedule_due_jobs`; the
unique (job, slot) row, inserted in the same transaction as the task row, decides who enqueues.
"""

from dataclasses import dataclass
from datetime import datetime

from cronsim import CronSim
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string

from backgroundmusic.core import clock
from backgroundmusic.core.models import ScheduledRun


@dataclass(frozen=True)
class RecurringJob:
    name: str
    cron: str  # evaluated in UTC
    task: str  # dotted path of a django-tasks Task taking no arguments


def latest_slot(cron: str, now: datetime) -> datetime:
    # In reverse, CronSim counts the start itself as a candidate only when it has microseconds.
    start = now if now.microsecond else now.replace(microsecond=1)
    return next(CronSim(cron, start, reverse=True))


def schedule_due_jobs(*, jobs: list[RecurringJob] | None = None) -> list[ScheduledRun]:
    """Enqueues the most recent slot of every job that has not been enqueued yet."""
    if jobs is None:
        jobs = import_string("backgroundmusic.recurring.RECURRING_JOBS")
    now = clock.now()
    enqueued = []
    for job in jobs:
        slot = latest_slot(job.cron, now)
        try:
            with transaction.atomic():
                run = ScheduledRun.objects.create(job=job.name, slot=slot, task_result_id="")
                result = import_string(job.task).enqueue()
                run.task_result_id = str(result.id)
                run.save(update_fields=["task_result_id"])
        except IntegrityError:
            continue  # another scheduler took this slot
        enqueued.append(run)
    return enqueued
