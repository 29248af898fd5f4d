"""The e-mail backend of every deployment that sends mail over the network: it asks
core.destinations whether the server the delivery backend connects to is declared, then lets
that backend (EMAIL_DELIVERY_BACKEND: Django's SMTP backend, or a django-anymail provider's)
do the work. Backends that write locally (files, memory, console) are used directly
(config/settings.py).

So every message that leaves the machine passes here, and here it is counted for /metrics
(core/metrics.py MAIL_MESSAGES: sent, or failed when the delivery backend raised)."""

from collections.abc import Sequence
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.utils.crypto import salted_hmac
from django.utils.module_loading import import_string

from backgroundmusic.core import metrics
from backgroundmusic.core.destinations import (
    DestinationRefused,
    Purpose,
    destination_require,
    url_destination_require,
)


class GuardedEmailBackend(BaseEmailBackend):
    def __init__(self, fail_silently: bool = False, **kwargs: Any) -> None:
        super().__init__(fail_silently=fail_silently)
        self.delivery = import_string(settings.EMAIL_DELIVERY_BACKEND)(
            fail_silently=fail_silently, **kwargs
        )
        self._checked = False

    def _require_destination(self) -> None:
        if self._checked:
            return
        if isinstance(self.delivery, SmtpBackend):
            destination_require(
                host=self.delivery.host, port=int(self.delivery.port), purpose=Purpose.MAIL
            )
        elif getattr(self.delivery, "api_url", None):
            # django-anymail's HTTP providers post every message to their api_url.
            url_destination_require(self.delivery.api_url, purpose=Purpose.MAIL)
        else:
            name = settings.EMAIL_DELIVERY_BACKEND
            raise DestinationRefused(
                f"Outbound mail through {name} refused: where it connects cannot be told, so it "
                "cannot be checked against OUTBOUND_DESTINATIONS.",
                host="",
                port=None,
                code="undeclared",
            )
        self._checked = True

    def open(self) -> bool | None:
        self._require_destination()
        return self.delivery.open()  # type: ignore[no-any-return]

    def close(self) -> None:
        self.delivery.close()

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        if not email_messages:
            return 0
        self._require_destination()
        try:
            sent = int(self.delivery.send_messages(email_messages) or 0)
        except Exception:
            metrics.MAIL_MESSAGES.labels(outcome="failed").inc(len(email_messages))
            raise
        metrics.MAIL_MESSAGES.labels(outcome="sent").inc(sent)
        if sent < len(email_messages):
            # A backend told to fail silently returns how many went out.
            metrics.MAIL_MESSAGES.labels(outcome="failed").inc(len(email_messages) - sent)
        return sent


def job_message_id(kind: str, key: object) -> dict[str, str]:
    """The Message-ID header of the message a job sends for one record (`kind`, its `key`):
    the same every time that record's message is sent. A job killed after the mail server
    accepted its message and before it recorded the send sends it again when it runs again
    (decision 0040); the copy carries the same Message-ID, which identifies one message
    (RFC 5322), so mailboxes that keep one message per Message-ID (Gmail's among them) show
    it once and a mail client can tell the two are one. A keyed digest, so the header tells
    nothing of our ids."""
    digest = salted_hmac("job-message-id", f"{kind}:{key}", algorithm="sha256").hexdigest()[:32]
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return {"Message-ID": f"<{digest}@{domain}>"}
