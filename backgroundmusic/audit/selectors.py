from django.db.models import QuerySet

from backgroundmusic.audit.models import AuditEvent


def audit_events(*, action: str = "", actor_id: int | None = None) -> QuerySet[AuditEvent]:
    """Rows newest first, narrowed to one action and one actor when given."""
    events = AuditEvent.objects.order_by("-pk")
    if action:
        events = events.filter(action=action)
    if actor_id is not None:
        events = events.filter(actor_id=actor_id)
    return events
