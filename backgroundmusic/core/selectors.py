import logging
from datetime import timedelta

from django.db import DatabaseError, connection
from redis.exceptions import RedisError

from backgroundmusic.core import clock
from backgroundmusic.core.health import (
    HealthCheck,
    HealthFacts,
    HealthState,
    registered_health_checks,
)
from backgroundmusic.core.storage import storage_is_up
from backgroundmusic.core.task_workers import oldest_waiting_job_enqueued_at

logger = logging.getLogger(__name__)

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
        oldest = oldest_waiting_job_enqueued_at()
    except (DatabaseError, RedisError):
        return False
    return oldest is None or oldest >= clock.now() - TASK_QUEUE_STALE_AFTER


def _asked(name: str, check: HealthCheck) -> HealthState:
    try:
        return check()
    except Exception:
        # A check that breaks says its part is down; /healthz itself must still answer.
        logger.exception("the health check %s failed", name)
        return HealthState(ok=False)


def health_report() -> dict[str, str | HealthFacts]:
    """What /healthz answers: "status" ("ok" when every part is ok, else "down"), the core
    parts as "ok" or "down", then each registered part as its status and facts."""
    database_ok = database_is_up()
    parts: dict[str, str | HealthFacts] = {
        "database": "ok" if database_ok else "down",
        "tasks": "ok" if database_ok and tasks_are_running() else "down",
        "storage": "ok" if storage_is_up() else "down",
    }
    healthy = all(state == "ok" for state in parts.values())
    for name, check in registered_health_checks().items():
        state = _asked(name, check)
        parts[name] = {"status": "ok" if state.ok else "down", **state.facts}
        healthy = healthy and state.ok
    return {"status": "ok" if healthy else "down", **parts}
