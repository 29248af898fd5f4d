"""The Redis task backend: django-tasks-rq's, with the project's two promises added (decision
0040-jobs-on-redis).

- A job reaches Redis only when the transaction that enqueued it commits, as a job row of the
  database backend becomes visible only then: a rollback leaves no job, and a worker never
  starts a job whose rows it cannot see yet.
- A committed job is not lost when Redis is down at the commit or the process dies right after
  it: the enqueuing transaction also writes an `OutboxJob` row, deleted once the job is in
  Redis; workers push the rows left behind (`outbox_jobs_push`).
- A job whose worker died (killed, machine lost) runs again, at most TASKS_RERUNS times: RQ's
  Retry, which its registry cleanup honours for abandoned jobs. A job that raised fails without
  a rerun, as on the database backend.
"""

from datetime import timedelta
from typing import Any

import django_rq
from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string
from django_tasks.base import TASK_MAX_PRIORITY, Task, TaskResult, TaskResultStatus
from django_tasks.signals import task_enqueued
from django_tasks.utils import get_random_id
from django_tasks_rq import backend as rq_backend
from rq.exceptions import AbandonedJobError
from rq.job import Callback, JobStatus, Retry

from backgroundmusic.core import clock
from backgroundmusic.core.models import OutboxJob

# Rows pushed by one call of outbox_jobs_push: a worker's tick stays short.
OUTBOX_BATCH = 500

# As long as a finished job row of the database backend (Retentions.FINISHED_JOBS): both hold
# the same ids and results.
FINISHED_JOB_KEPT = timedelta(days=14)


def _job_failed(job: rq_backend.Job, connection: Any, exc_type: type, *exc_info: Any) -> None:
    if not issubclass(exc_type, AbandonedJobError):
        job.retries_left = None  # a task that raised fails, as on the database backend
    elif job.retries_left:
        return  # it runs again: not finished
    rq_backend.failed_callback(job, connection, exc_type, *exc_info)


class RQBackend(rq_backend.RQBackend):
    # RQ keeps one order per queue: the highest priority goes to the front, any other to the
    # back (as the library does). Accepted rather than refused, so the demo filling's low
    # priority (catalog/demo/filling.py) enqueues here too, in order of arrival.
    supports_priority = True

    def enqueue(self, task: Task, args: Any, kwargs: Any) -> TaskResult:
        self.validate_task(task)
        result: TaskResult = TaskResult(
            task=task,
            id=get_random_id(),
            status=TaskResultStatus.READY,
            enqueued_at=None,
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=args,
            kwargs=kwargs,
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        OutboxJob.objects.create(
            job_id=result.id,
            task_path=task.module_path,
            queue_name=task.queue_name,
            priority=task.priority,
            run_after=task.run_after,
            args_kwargs={"args": args, "kwargs": kwargs},
            created_at=clock.now(),
        )

        # robust: the change has committed by then; raising could not undo it and would skip
        # the jobs enqueued after this one in the same transaction. Django logs the error, and
        # the outbox row stays for a worker to push. (A function, not a partial: Django's log of
        # the failure names it by its __qualname__, which a partial lacks.)
        def push_committed() -> None:
            self._push_committed(result)

        transaction.on_commit(push_committed, robust=True)
        return result

    def _push_committed(self, result: TaskResult) -> None:
        with transaction.atomic():
            # Locked, so a worker pushing the outbox at this moment skips it (and this skips a
            # row such a worker holds).
            row = OutboxJob.objects.select_for_update(skip_locked=True).filter(pk=result.id).first()
            if row is None:
                return
            self._push(result.task, job_id=result.id, args=result.args, kwargs=result.kwargs)
            row.delete()
        task_enqueued.send(type(self), task_result=result)

    def outbox_push(self, row: OutboxJob) -> bool:
        """Pushes the job of `row` unless Redis holds it already (a process that pushed it died
        before deleting the row); the caller holds the row's lock and deletes it. Returns
        whether it pushed."""
        queue = django_rq.get_queue(row.queue_name, job_class=rq_backend.Job)
        if rq_backend.Job.exists(row.job_id, connection=queue.connection):
            return False
        task = import_string(row.task_path).using(
            priority=row.priority, queue_name=row.queue_name, run_after=row.run_after
        )
        arguments = row.args_kwargs
        self._push(task, job_id=row.job_id, args=arguments["args"], kwargs=arguments["kwargs"])
        return True

    def _push(self, task: Task, *, job_id: str, args: Any, kwargs: Any) -> None:
        queue = django_rq.get_queue(task.queue_name, job_class=rq_backend.Job)
        job = queue.create_job(
            task.module_path,
            args=args,
            kwargs=kwargs,
            job_id=job_id,
            status=JobStatus.SCHEDULED if task.run_after else JobStatus.QUEUED,
            on_failure=Callback(_job_failed),
            on_success=Callback(rq_backend.success_callback),
            meta={"backend_name": self.alias},
            retry=Retry(max=settings.TASKS_RERUNS),
            result_ttl=int(FINISHED_JOB_KEPT.total_seconds()),
            failure_ttl=int(FINISHED_JOB_KEPT.total_seconds()),
        )
        if task.run_after is None:
            queue.enqueue_job(job, at_front=task.priority == TASK_MAX_PRIORITY)
        else:
            queue.schedule_job(job, task.run_after)


def outbox_jobs_push(backend: RQBackend) -> int:
    """Pushes the jobs whose outbox rows are older than TASKS_OUTBOX_GRACE seconds (their push
    after the commit failed or never ran: it normally follows within milliseconds), at most
    OUTBOX_BATCH, oldest first. Returns how many it pushed; rows of jobs Redis already holds
    are only deleted."""
    grace = timedelta(seconds=settings.TASKS_OUTBOX_GRACE)
    due = OutboxJob.objects.filter(created_at__lt=clock.now() - grace)
    pushed = 0
    for job_id in due.order_by("created_at").values_list("pk", flat=True)[:OUTBOX_BATCH]:
        with transaction.atomic():
            row = OutboxJob.objects.select_for_update(skip_locked=True).filter(pk=job_id).first()
            if row is None:
                continue  # its own push after the commit, or another worker, holds it
            pushed += backend.outbox_push(row)
            row.delete()
    return pushed
