"""Jobs of the media app: thin, take ids, safe to run again after a kill."""

from django_tasks import task

from backgroundmusic.media import services


@task()
def ingest_master(master_id: int) -> str:
    """Runs the ingest pipeline on one master; returns its state ("gone" if deleted)."""
    master = services.master_ingest(master_id=master_id)
    return str(master.status) if master is not None else "gone"


@task()
def fail_stuck_masters() -> int:
    """The watchdog: fails masters stuck in processing; returns how many."""
    return services.master_fail_stuck()
