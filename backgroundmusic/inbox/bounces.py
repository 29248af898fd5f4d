"""Delivery status notifications (RFC 3464: multipart/report; report-type=delivery-status) that
come back to the bounce address: which recipients failed, and whether for good.

`hard_bounce_addresses` is what the mailing app's suppression list is fed from: the inbox records
such a letter with the outcome "bounce" and passes each address to mailing's
`suppression_record` (inbox/services.py). A delay (4.x.x) suppresses nothing.

Anyone can write to the bounce address, so a report counts for an address only when the original
headers it returns (text/rfc822-headers or the whole message/rfc822, RFC 3462) hold the delivery
tag our newsletter to that address carried (mailing/rendering.py). A report without them, or with
another address's tag, suppresses nothing.
"""

from dataclasses import dataclass
from email.message import EmailMessage, Message
from email.parser import HeaderParser

from backgroundmusic.inbox.parsing import address_normal
from backgroundmusic.mailing.rendering import DELIVERY_TAG_HEADER
from backgroundmusic.privacy.kernel.pseudonyms import delivery_tag


@dataclass(frozen=True)
class DeliveryFailure:
    address: str  # lower-case
    status: str  # e.g. "5.1.1"; "" when the report gives none
    action: str  # "failed", "delayed", ...

    @property
    def hard(self) -> bool:
        """Permanent: the action failed with a 5.x.x status (RFC 3463); 4.x.x is a delay."""
        return self.action == "failed" and self.status.startswith("5.")


def _status_blocks(message: Message) -> list[Message]:
    for part in message.walk():
        if part.get_content_type() == "message/delivery-status":
            payload = part.get_payload()
            if isinstance(payload, list):
                return [block for block in payload if isinstance(block, Message)]
    return []


def _recipient(block: Message) -> str | None:
    for name in ("Final-Recipient", "Original-Recipient"):
        value = str(block.get(name, ""))
        kind, _, address = value.partition(";")
        if address and kind.strip().lower() == "rfc822":
            normal = address_normal(address.strip().strip("<>"))
            if normal is not None:
                return normal
    return None


def delivery_failures(message: EmailMessage) -> list[DeliveryFailure]:
    """The per-recipient blocks of a delivery report (the first block is about the message and
    names no recipient, so it is skipped by having none)."""
    failures = []
    for block in _status_blocks(message):
        address = _recipient(block)
        if address is None:
            continue
        failures.append(
            DeliveryFailure(
                address=address,
                status=str(block.get("Status", "")).strip().split(" ", 1)[0],
                action=str(block.get("Action", "")).strip().lower(),
            )
        )
    return failures


def returned_delivery_tags(message: EmailMessage) -> set[str]:
    """The delivery tags in the original headers a report returns."""
    tags: set[str] = set()
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "text/rfc822-headers":
            payload = part.get_payload(decode=True)
            text = payload.decode("ascii", "replace") if isinstance(payload, bytes) else ""
            returned: Message | None = HeaderParser().parsestr(text)
        elif kind == "message/rfc822":
            inner = part.get_payload()
            first = inner[0] if isinstance(inner, list) and inner else None
            returned = first if isinstance(first, Message) else None
        else:
            continue
        if returned is not None:
            tags.update(str(tag).strip() for tag in returned.get_all(DELIVERY_TAG_HEADER) or [])
    return tags


def hard_bounce_addresses(message: EmailMessage) -> list[str]:
    """The recipients a delivery report says can never be reached, each once, in report order:
    only those whose delivery tag the report returns."""
    tags = returned_delivery_tags(message)
    found: list[str] = []
    for failure in delivery_failures(message):
        if (
            failure.hard
            and failure.address not in found
            and delivery_tag(address=failure.address) in tags
        ):
            found.append(failure.address)
    return found
