"""django-anymail's tracking webhooks (mounted under /mail/anymail/) tell us of bounces and
complaints; the receiver only hands permanent ones to the service."""

from typing import Any

from anymail.signals import AnymailTrackingEvent, EventType, RejectReason

from backgroundmusic.mailing.models import SuppressionReason
from backgroundmusic.mailing.services import suppression_record

SUPPRESSING_EVENTS = {
    # anymail's "bounced" is a permanent failure; temporary ones are "deferred".
    EventType.BOUNCED: SuppressionReason.HARD_BOUNCE,
    EventType.COMPLAINED: SuppressionReason.COMPLAINT,
}


def _reason(event: AnymailTrackingEvent) -> SuppressionReason | None:
    if event.event_type == EventType.REJECTED and event.reject_reason == RejectReason.INVALID:
        # The provider refused to send at all: the address does not exist.
        return SuppressionReason.HARD_BOUNCE
    return SUPPRESSING_EVENTS.get(event.event_type)


def tracking_received(sender: object, event: AnymailTrackingEvent, **kwargs: Any) -> None:
    reason = _reason(event)
    if reason is not None and event.recipient:
        suppression_record(address=event.recipient, reason=reason)
