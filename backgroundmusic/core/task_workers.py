"""Task workers that die mid-job: their job runs again (decision 0040-jobs-on-redis).

A worker is taken for dead when it has been silent for TASKS_WORKER_LOST_AFTER seconds. On the
database backend every worker writes its `TaskWorker` row four times as often, and any worker
puts a dead worker's RUNNING jobs back to READY (`abandoned_tasks_requeue`); on Redis, RQ's own
registry cleanup does the same with the heartbeat period set here (`RQWorker`).
"""

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import django_rq
from django.conf import settings
from django.db import connections, transaction
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from django_tasks_rq.backend import Job
from rq.worker import Worker

from backgroundmusic.core import clock
from backgroundmusic.core.models import OutboxJob, TaskWorker
from backgroundmusic.core.task_backends import RQBackend, outbox_jobs_push

logger = logging.getLogger(__name__)


class WorkerLost(Exception):
    """What a job whose worker died on every attempt failed of (its exception class path)."""


# A worker row not seen for a day names no job anyone waits for.
FORGET_WORKER_AFTER = timedelta(days=1)


def oldest_waiting_job_enqueued_at() -> datetime | None:
    """When the job that has waited longest for a worker was enqueued, on either backend."""
    if settings.TASKS_BACKEND == "rq":
        queue = django_rq.get_queue(settings.TASKS["default"]["QUEUES"][0], job_class=Job)
        oldest = next(iter(queue.get_jobs(0, 1)), None)
        # A job still in the outbox waits too (Redis was down when it committed).
        waiting = [
            OutboxJob.objects.order_by("created_at").values_list("created_at", flat=True).first()
        ]
        if oldest is not None and oldest.enqueued_at is not None:
            enqueued_at: datetime = oldest.enqueued_at
            waiting.append(enqueued_at if enqueued_at.tzinfo else enqueued_at.replace(tzinfo=UTC))
        return min((moment for moment in waiting if moment is not None), default=None)
    ready = DBTaskResult.objects.ready().order_by("enqueued_at")
    return ready.values_list("enqueued_at", flat=True).first()


def heartbeat_every() -> float:
    return settings.TASKS_WORKER_LOST_AFTER / 4


def worker_beat(*, worker_id: str) -> None:
    TaskWorker.objects.update_or_create(worker_id=worker_id, defaults={"seen_at": clock.now()})


def abandoned_tasks_requeue() -> int:
    """RUNNING jobs of the database backend whose worker is silent go back to READY, or fail
    once they have been started TASKS_RERUNS + 1 times. Returns how many were requeued."""
    now = clock.now()
    alive = set(
        TaskWorker.objects.filter(
            seen_at__gte=now - timedelta(seconds=settings.TASKS_WORKER_LOST_AFTER)
        ).values_list("worker_id", flat=True)
    )
    requeued = 0
    for result in DBTaskResult.objects.running():
        if result.worker_ids and result.worker_ids[-1] in alive:
            continue
        # The attempt is named by its start: another worker sweeping at the same moment, or the
        # worker itself finishing late, makes this update match nothing.
        attempt = DBTaskResult.objects.running().filter(pk=result.pk, started_at=result.started_at)
        rerun = len(result.worker_ids) <= settings.TASKS_RERUNS
        if rerun:
            changed = attempt.update(status=TaskResultStatus.READY)
            requeued += changed
        else:
            changed = attempt.update(
                status=TaskResultStatus.FAILED,
                finished_at=now,
                exception_class_path=f"{__name__}.WorkerLost",
                traceback=f"its worker died on each of {len(result.worker_ids)} attempts",
            )
        if changed:
            logger.warning(
                "job %s (%s): its worker was lost; %s",
                result.pk,
                result.task_path,
                "queued again" if rerun else "failed",
            )
    TaskWorker.objects.filter(seen_at__lt=now - FORGET_WORKER_AFTER).delete()
    return requeued


def worker_housekeeping(*, worker_id: str) -> None:
    with transaction.atomic():
        worker_beat(worker_id=worker_id)
    abandoned_tasks_requeue()


class RQWorker(Worker):
    """RQ's worker, keeping its job's claim alive for TASKS_WORKER_LOST_AFTER seconds at a time
    (RQ's own is the job's monitoring interval plus a fixed minute)."""

    def get_heartbeat_ttl(self, job: Any, working_time: float = 0.0) -> int:
        return int(settings.TASKS_WORKER_LOST_AFTER)


def outbox_relay() -> int:
    """Pushes the Redis backend's jobs left in the outbox (core.task_backends); how many."""
    backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
    assert isinstance(backend, RQBackend), "the outbox belongs to the Redis task backend"
    pushed = outbox_jobs_push(backend)
    if pushed:
        logger.warning("pushed %d job(s) whose push after their commit had not happened", pushed)
    return pushed


def rq_worker_run(*, burst: bool) -> None:
    lost_after = int(settings.TASKS_WORKER_LOST_AFTER)
    worker = django_rq.get_worker(
        *settings.TASKS["default"]["QUEUES"],
        job_class=Job,
        worker_class=RQWorker,
        job_monitoring_interval=max(1, lost_after // 4),
        # Abandoned jobs are found by the registry cleanup ("maintenance"): twice per period.
        maintenance_interval=max(1, lost_after // 2),
        # An idle worker wakes every worker_ttl - 15 seconds, and only then cleans up.
        worker_ttl=15 + max(1, lost_after // 2),
    )
    # The work horse is a fork: it must open its own database connections.
    connections.close_all()
    worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
