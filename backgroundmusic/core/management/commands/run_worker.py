"""The task worker of `make run` and of worker machines: runs jobs, schedules recurring ones, and
queues again the jobs of workers that died (core/task_workers.py), on either task backend; on
Redis it also pushes the jobs whose push after their commit failed (the outbox)."""

import logging
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils.crypto import get_random_string
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS
from django_tasks_db.management.commands.db_worker import Worker

from backgroundmusic.core.schedule import schedule_due_jobs
from backgroundmusic.core.task_workers import (
    heartbeat_every,
    outbox_relay,
    rq_worker_run,
    worker_housekeeping,
)

logger = logging.getLogger(__name__)


def _every(stop: threading.Event, period: float, step: Any, what: str) -> None:
    while not stop.wait(period):
        try:
            step()
        except Exception:
            logger.exception("%s failed; trying again next tick", what)
        finally:
            close_old_connections()


class Command(BaseCommand):
    help = "Run queued jobs and enqueue recurring jobs as their slots come due."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
        parser.add_argument("--schedule-every", type=float, default=30.0)
        parser.add_argument("--batch", action="store_true", help="run what is queued, then exit")

    def handle(
        self, *args: Any, interval: float, schedule_every: float, batch: bool, **options: Any
    ) -> None:
        stop = threading.Event()
        schedule_due_jobs()
        close_old_connections()
        if not batch:
            threading.Thread(
                target=_every,
                args=(stop, schedule_every, schedule_due_jobs, "scheduling recurring jobs"),
                daemon=True,
            ).start()
        try:
            if settings.TASKS_BACKEND == "rq":
                outbox_relay()
                close_old_connections()
                if not batch:
                    threading.Thread(
                        target=_every,
                        args=(stop, heartbeat_every(), outbox_relay, "pushing the outbox"),
                        daemon=True,
                    ).start()
                rq_worker_run(burst=batch)
            else:
                self._database_worker_run(stop, interval=interval, batch=batch)
        finally:
            stop.set()

    def _database_worker_run(self, stop: threading.Event, *, interval: float, batch: bool) -> None:
        worker_id = get_random_string(32)
        # Seen before its first claim, so a job is never taken for abandoned while it starts.
        worker_housekeeping(worker_id=worker_id)
        close_old_connections()
        if not batch:
            threading.Thread(
                target=_every,
                args=(
                    stop,
                    heartbeat_every(),
                    lambda: worker_housekeeping(worker_id=worker_id),
                    "the worker's heartbeat",
                ),
                daemon=True,
            ).start()
        worker = Worker(
            queue_names=["*"],
            interval=interval,
            batch=batch,
            backend_name=DEFAULT_TASK_BACKEND_ALIAS,
            startup_delay=not batch,
            max_tasks=None,
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        worker.configure_signals()
        worker.run()
