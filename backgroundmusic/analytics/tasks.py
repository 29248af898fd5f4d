"""Jobs of the analytics app: thin, safe to run again."""

from django_tasks import task

from backgroundmusic.analytics import aggregates, keys


@task()
def purge_visitor_salts() -> int:
    """Hourly: deletes the cookieless keys' salts older than 48 hours."""
    return keys.salts_purge()


@task()
def aggregate_events() -> int:
    """Nightly: daily aggregates of yesterday and the day before (raw events past 25 months
    leave through the retention run)."""
    return aggregates.aggregate_recent()
