"""Delivery status notifications (RFC 3464: multipart/report; report-type=delivery-status) that
come back to the bounce address: which recipients failed, and whether for good.

`hard_bounce_addresses` is what the mailing app's suppression list is fed from: the inbox records
such a letter with the outcome "bounce" and passes each address to mailing's
`suppression_record` (inbox/services.py). A delay (4.x.x) suppresses nothing.
"""

from dataclasses import dataclass
from email.message import EmailMessage, Message

from backgroundmusic.inbox.parsing import address_normal


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


def hard_bounce_addresses(message: EmailMessage) -> list[str]:
    """The recipients a delivery report says can never be reached, each once, in report order."""
    found: list[str] = []
    for failure in delivery_failures(message):
        if failure.hard and failure.address not in found:
            found.append(failure.address)
    return found
