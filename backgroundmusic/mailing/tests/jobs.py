"""Running the mailing app's queued jobs in a test, as the worker would."""

from django.utils import timezone
from django_tasks_db.models import DBTaskResult


def queued(task_name: str) -> list[DBTaskResult]:
    return list(
        DBTaskResult.objects.filter(status="READY", task_path__endswith=f".{task_name}").order_by(
            "enqueued_at", "pk"
        )
    )


def run_queued(task_name: str, **only: object) -> list[object]:
    """Runs the ready jobs of one task (those whose keyword arguments include `only`), one call
    each, then marks them done. A job that raises stays failed, as in the worker."""
    results = []
    for row in queued(task_name):
        kwargs = row.args_kwargs["kwargs"]
        if any(kwargs.get(name) != value for name, value in only.items()):
            continue
        try:
            results.append(row.task.call(*row.args_kwargs["args"], **kwargs))
        except Exception:
            DBTaskResult.objects.filter(pk=row.pk).update(
                status="FAILED", finished_at=timezone.now()
            )
            raise
        DBTaskResult.objects.filter(pk=row.pk).update(
            status="SUCCESSFUL", finished_at=timezone.now()
        )
    return results
