"""Jobs of licensing: thin, safe to run again."""

from django_tasks import task

from backgroundmusic.core import clock
from backgroundmusic.licensing import agreements


@task()
def lapse_agreements() -> dict[str, int]:
    """Every hour: subscriptions past their paid month are suspended (or expire when renewal was
    cancelled), and those suspended too long expire (licensing/agreements.py)."""
    return agreements.agreements_lapse(now=clock.now())
