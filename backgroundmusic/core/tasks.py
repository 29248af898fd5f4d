from datetime import timedelta

from django_tasks import task
from django_tasks_db.models import DBTaskResult

from backgroundmusic.core import clock

FINISHED_TASK_RETENTION = timedelta(days=14)


@task()
def prune_finished_tasks() -> int:
    """Finished job rows carry ids of people in their arguments; keep them two weeks, no longer."""
    cutoff = clock.now() - FINISHED_TASK_RETENTION
    deleted, _ = DBTaskResult.objects.filter(finished_at__lt=cutoff).delete()
    return deleted
