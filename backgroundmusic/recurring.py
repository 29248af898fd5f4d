"""Every recurring job of the service, in one place (cron in UTC)."""

from backgroundmusic.core.schedule import RecurringJob

RECURRING_JOBS: list[RecurringJob] = [
    RecurringJob(
        name="prune_finished_tasks",
        cron="17 3 * * *",
        task="backgroundmusic.core.tasks.prune_finished_tasks",
    ),
]
