"""The task worker of `make run` and of worker machines: runs jobs, schedules recurring ones."""

import logging
import threading
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils.crypto import get_random_string
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS
from django_tasks_db.management.commands.db_worker import Worker

from backgroundmusic.core.schedule import schedule_due_jobs

logger = logging.getLogger(__name__)


def _schedule_forever(stop: threading.Event, every: float) -> None:
    while not stop.wait(every):
        try:
            schedule_due_jobs()
        except Exception:
            logger.exception("scheduling recurring jobs failed; trying again next tick")
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
                target=_schedule_forever, args=(stop, schedule_every), daemon=True
            ).start()
        worker = Worker(
            queue_names=["*"],
            interval=interval,
            batch=batch,
            backend_name=DEFAULT_TASK_BACKEND_ALIAS,
            startup_delay=not batch,
            max_tasks=None,
            worker_id=get_random_string(32),
            excluded_queue_names=[],
        )
        worker.configure_signals()
        try:
            worker.run()
        finally:
            stop.set()
