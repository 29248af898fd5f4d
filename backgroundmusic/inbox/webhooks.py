"""A provider's inbound webhook (django-anymail, /anymail/<provider>/inbound/): anymail checks the
provider's authentication and parses the post into a message; this receiver only hands its bytes
to the same service the readers call."""

from typing import Any

from django.conf import settings

from backgroundmusic.core import clock
from backgroundmusic.inbox.services import inbound_record


def inbound_received(sender: Any, event: Any, esp_name: str, **kwargs: Any) -> None:
    # Only when the inbox is configured to be fed by a provider: otherwise the URL is not one
    # anybody was given, and letters come through the reader.
    if settings.INBOX_READER != "webhook":
        return
    message = event.message
    inbound_record(
        raw=message.as_bytes(),
        received_at=event.timestamp or clock.now(),
        envelope_recipient=str(getattr(message, "envelope_recipient", None) or ""),
    )
