"""django-anymail's tracking webhooks (mounted under /mail/anymail/) tell us of bounces and
complaints; the receiver only hands permanent ones to the service."""

from typing import Any

from anymail.signals import AnymailTrackingEvent, EventType

from backgroundmusic.mailing.models import SuppressionReason
from backgroundmusic.mailing.services import suppression_record

SUPPRESSING_EVENTS = {
    # anymail's "bounced" is a permanent failure; temporary ones are "deferred".
    EventType.BOUNCED: SuppressionReason.HARD_BOUNCE,
    EventType.COMPLAINED: SuppressionReason.COMPLAINT,
}


def tracking_received(sender: object, event: AnymailTrackingEvent, **kwargs: Any) -> None:
    reason = SUPPRESSING_EVENTS.get(event.event_type)
    if reason is not None and event.recipient:
        suppression_record(address=event.recipient, reason=reason)
