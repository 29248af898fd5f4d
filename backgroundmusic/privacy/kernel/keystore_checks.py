"""The key store watched like the other parts: /healthz says whether it answers, and the deploy
check refuses a scale-out install whose data keys would sit in a local file or in the main
database itself, where every backup of it would carry them again (decision 0036)."""

from typing import Any

from django.conf import settings
from django.core import checks
from django.db import DatabaseError, connections

from backgroundmusic.core.health import HealthState


def key_store_health() -> HealthState:
    """Down when the key store does not answer: nothing sealed can be read or written then."""
    try:
        with connections[settings.KEYS_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return HealthState(ok=False)
    return HealthState(ok=True)


def _same_database(first: dict[str, Any], second: dict[str, Any]) -> bool:
    keys = ("ENGINE", "NAME", "HOST", "PORT")
    return all(str(first.get(key, "")) == str(second.get(key, "")) for key in keys)


def key_store_deploy_check(**kwargs: Any) -> list[checks.CheckMessage]:
    if settings.EMBEDDED:
        return []
    if not settings.KEYS_DATABASE_URL:
        return [
            checks.Error(
                "The data keys are kept in a local SQLite file while the rest runs on a server.",
                hint="Set KEYS_DATABASE_URL to a PostgreSQL database of its own "
                "(docs/operations.md, 'Backup and restore').",
                id="privacy.E040",
            )
        ]
    if _same_database(settings.DATABASES[settings.KEYS_DB_ALIAS], settings.DATABASES["default"]):
        return [
            checks.Error(
                "KEYS_DATABASE_URL names the main database: its backups would hold the data keys.",
                hint="Give the key store a database of its own.",
                id="privacy.E041",
            )
        ]
    return []
