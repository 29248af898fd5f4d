"""Jobs of the accounts app: thin, safe to run again."""

from django_tasks import task

from backgroundmusic.accounts import break_glass


@task()
def end_break_glass() -> int:
    """Every minute: ends expired break-glass grants and superuser status held without one."""
    return break_glass.break_glass_end_due()
