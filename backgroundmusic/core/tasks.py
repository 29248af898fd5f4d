from datetime import timedelta

from django.db.models import Max
from django_tasks import task

from backgroundmusic.core import clock
from backgroundmusic.core.models import ScheduledRun

SCHEDULE_SLOT_RETENTION = timedelta(days=14)


@task()
def prune_schedule_slots() -> int:
    """Recurring-job slots older than two weeks, except each job's latest, which the scheduler
    needs to know that slot was taken (an every-minute job adds 1,440 a day). Slots name no one;
    the finished job rows, which do, are the retention run's (core/privacy.py)."""
    cutoff = clock.now() - SCHEDULE_SLOT_RETENTION
    latest_slots = ScheduledRun.objects.values("job").annotate(latest=Max("slot"))
    old_slots = ScheduledRun.objects.filter(slot__lt=cutoff)
    for row in latest_slots.filter(latest__lt=cutoff):
        old_slots = old_slots.exclude(job=row["job"], slot=row["latest"])
    deleted, _ = old_slots.delete()
    return deleted
