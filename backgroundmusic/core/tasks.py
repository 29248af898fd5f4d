from datetime import timedelta

from django.db.models import Max
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from backgroundmusic.core import clock
from backgroundmusic.core.models import ScheduledRun

FINISHED_TASK_RETENTION = timedelta(days=14)


@task()
def prune_finished_tasks() -> int:
    """Finished job rows carry ids of people in their arguments; keep them two weeks, no longer.
    Recurring-job slots are kept as long, except each job's latest, which the scheduler needs
    to know that slot was taken (an every-minute job adds 1,440 a day)."""
    cutoff = clock.now() - FINISHED_TASK_RETENTION
    deleted, _ = DBTaskResult.objects.filter(finished_at__lt=cutoff).delete()
    latest_slots = ScheduledRun.objects.values("job").annotate(latest=Max("slot"))
    old_slots = ScheduledRun.objects.filter(slot__lt=cutoff)
    for row in latest_slots.filter(latest__lt=cutoff):
        old_slots = old_slots.exclude(job=row["job"], slot=row["latest"])
    slots_deleted, _ = old_slots.delete()
    return deleted + slots_deleted
