from typing import Any, ClassVar

from django.db import models


class ScheduledRun(models.Model):
    """One slot of a recurring job. The unique constraint makes two schedulers enqueue it once."""

    job = models.CharField(max_length=100)
    slot = models.DateTimeField()
    task_result_id = models.CharField(max_length=64)
    enqueued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "slot"], name="scheduled_run_once")]
        ordering = ["-slot"]

    def __str__(self) -> str:
        return f"{self.job} @ {self.slot:%Y-%m-%d %H:%M}"


class TaskWorker(models.Model):
    """A task worker of the database backend and when it was last seen alive. A running job
    whose worker has been silent longer than TASKS_WORKER_LOST_AFTER runs again
    (core/task_workers.py): the database backend knows no other sign of a dead worker."""

    worker_id = models.CharField(max_length=64, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.worker_id} seen {self.seen_at:%Y-%m-%d %H:%M:%S}"


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an append-only record through the ORM."""


class AppendOnlyQuerySet(models.QuerySet[Any]):
    """Reads and inserts only. Rows leave only with their subject (database-level cascade)."""

    def update(self, **kwargs: object) -> int:
        raise AppendOnlyError(f"{self.model._meta.label} is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"{self.model._meta.label} is append-only")

    def bulk_update(self, *args: object, **kwargs: object) -> int:
        raise AppendOnlyError(f"{self.model._meta.label} is append-only")


class AppendOnlyModel(models.Model):
    objects: ClassVar[models.Manager[Any]] = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError(f"{self._meta.label} is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"{self._meta.label} is append-only")
