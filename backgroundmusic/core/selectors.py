from datetime import timedelta

from django.db import DatabaseError, connection
from django_tasks_db.models import DBTaskResult

from backgroundmusic.core import clock
from backgroundmusic.core.storage import storage_is_up

# A job waiting longer than this means no worker is taking jobs.
TASK_QUEUE_STALE_AFTER = timedelta(minutes=5)


def database_is_up() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        return False


def tasks_are_running() -> bool:
    """Jobs are being taken: nothing ready has waited past TASK_QUEUE_STALE_AFTER."""
    try:
        cutoff = clock.now() - TASK_QUEUE_STALE_AFTER
        return not DBTaskResult.objects.ready().filter(enqueued_at__lt=cutoff).exists()
    except DatabaseError:
        return False


def health_report() -> dict[str, str]:
    database_ok = database_is_up()
    return {
        "database": "ok" if database_ok else "down",
        "tasks": "ok" if database_ok and tasks_are_running() else "down",
        "storage": "ok" if storage_is_up() else "down",
    }
