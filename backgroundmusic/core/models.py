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


class OutboxJob(models.Model):
    """A job of the Redis task backend whose transaction committed and which Redis may not hold
    yet (decision 0040, "Outbox"). Written in the enqueuing transaction, deleted once the job is
    in Redis; a row older than a minute means the push after the commit failed (Redis down) or
    never ran (the process died), and a worker pushes it (core/task_workers.py)."""

    job_id = models.CharField(max_length=64, primary_key=True)
    task_path = models.CharField(max_length=255)
    queue_name = models.CharField(max_length=100)
    priority = models.IntegerField()
    run_after = models.DateTimeField(null=True)
    args_kwargs = models.JSONField()
    created_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.task_path} {self.job_id}"


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
