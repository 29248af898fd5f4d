"""The Redis task backend: django-tasks-rq's, with the project's two promises added (decision
0040-jobs-on-redis).

- A job reaches Redis only when the transaction that enqueued it commits, as a job row of the
  database backend becomes visible only then: a rollback leaves no job, and a worker never
  starts a job whose rows it cannot see yet.
- A job whose worker died (killed, machine lost) runs again, at most TASKS_RERUNS times: RQ's
  Retry, which its registry cleanup honours for abandoned jobs. A job that raised fails without
  a rerun, as on the database backend.
"""

from datetime import timedelta
from functools import partial
from typing import Any

import django_rq
from django.conf import settings
from django.db import transaction
from django_tasks.base import TASK_MAX_PRIORITY, Task, TaskResult, TaskResultStatus
from django_tasks.signals import task_enqueued
from django_tasks.utils import get_random_id
from django_tasks_rq import backend as rq_backend
from rq.exceptions import AbandonedJobError
from rq.job import Callback, JobStatus, Retry

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
        # robust: the change has committed by then; raising could not undo it and would skip
        # the jobs enqueued after this one in the same transaction. Django logs the error.
        transaction.on_commit(partial(self._push, result), robust=True)
        return result

    def _push(self, result: TaskResult) -> None:
        task = result.task
        queue = django_rq.get_queue(task.queue_name, job_class=rq_backend.Job)
        job = queue.create_job(
            task.module_path,
            args=result.args,
            kwargs=result.kwargs,
            job_id=result.id,
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
        task_enqueued.send(type(self), task_result=result)
