"""The end of licensing's records: each order and agreement carries the date until which the law
keeps it (keep_until, written by the services when it is paid or ends); past it, the record goes
with everything that hangs on it (licensing/privacy.py)."""

from datetime import datetime

from django.db import models

from backgroundmusic.licensing.models import Agreement, Order
from backgroundmusic.privacy.kernel.holds import unheld


def licensing_records_prune(*, now: datetime) -> dict[str, int]:
    """Deletes agreements, then orders, whose keep_until has passed. An order still carrying an
    agreement waits for it (an agreement outlives the reporting year of its payment)."""
    today = now.date()
    counts: dict[str, int] = {}
    _deleted, by_model = unheld(Agreement.objects.filter(keep_until__lt=today)).delete()
    counts.update(by_model)
    orders = unheld(Order.objects.filter(keep_until__lt=today)).exclude(
        models.Exists(Agreement.objects.filter(order_line__order=models.OuterRef("pk")))
    )
    _deleted, by_model = orders.delete()
    for label, n in by_model.items():
        counts[label] = counts.get(label, 0) + n
    return {label: n for label, n in counts.items() if n}
