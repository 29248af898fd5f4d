"""Jobs of licensing: thin, safe to run again."""

from django_tasks import task

from backgroundmusic.core import clock
from backgroundmusic.licensing import agreements, billing, notices


@task()
def lapse_agreements() -> dict[str, int]:
    """Every hour: subscriptions past their paid month are suspended (or expire when renewal was
    cancelled), and those suspended too long expire (licensing/agreements.py)."""
    return agreements.agreements_lapse(now=clock.now())


@task()
def sync_pending_payments() -> dict[str, int]:
    """Every 5 minutes: card payments still pending a while after they were made are read again
    from the provider and moved forward, as their notification would have (licensing/billing.py)."""
    return billing.payments_pending_sync(now=clock.now())


@task()
def send_licensing_notice(notice_id: int) -> str:
    """Sends one queued letter about an order or a licence (licensing/notices.py)."""
    return notices.notice_send(notice_id=notice_id)
