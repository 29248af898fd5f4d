"""Bank transfer, the embedded default: the buyer pays the invoice from their bank, and staff
confirm the transfer when it shows on the statement. No call leaves the server.

The provider keeps nothing: what it knows of a payment or a refund is what the service layer
stored, read through a TransferBook (`PAYMENT_TRANSFER_BOOK` names the licensing class that
implements it). Its answers follow the same state machine as a card provider's:

- create_payment: pending; confirmation_url is the return_url, the page with the invoice and
  the bank details. Ids derive from the idempotency key, so a retry gives the same payment.
- capture_payment: staff saw the transfer arrive; pending -> succeeded. A transfer never waits
  for capture: staff's confirmation is the check a card payment gets before its capture.
- cancel_payment: pending -> canceled (the order was abandoned; no money moved).
- create_refund: a succeeded payment, at most its amount -> a pending refund, which staff send
  back by transfer; the service stores it as succeeded when they have (get_refund reads that).
  The sum of several refunds is the service's to check: the book answers one object at a time.

The service stores each answer; a repeated call with an id or key already stored answers from the
book, so every call is idempotent.
"""

import uuid
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from backgroundmusic.licensing.payments.base import (
    Notification,
    NotificationRejected,
    PaymentStatus,
    ProviderPayment,
    ProviderRefund,
    ProviderRejected,
    RefundStatus,
    amount_value,
    check_currency,
    check_idempotency_key,
)

# Fixed for ever: ids already handed out derive from it.
_ID_NAMESPACE = uuid.UUID("5b0c3d2e-8f4a-4f6e-9a57-0d3c1e2b7a91")


class TransferBook(Protocol):
    """What the service layer stored about bank transfers, by the ids this provider made."""

    def stored_payment(self, payment_id: str) -> ProviderPayment | None: ...

    def stored_refund(self, refund_id: str) -> ProviderRefund | None: ...


class BankTransferProvider:
    name = "bank_transfer"

    def __init__(self, *, book: TransferBook) -> None:
        self._book = book

    @classmethod
    def from_settings(cls) -> "BankTransferProvider":
        if not settings.PAYMENT_TRANSFER_BOOK:
            raise ImproperlyConfigured("PAYMENT_TRANSFER_BOOK names no TransferBook class")
        return cls(book=import_string(settings.PAYMENT_TRANSFER_BOOK)())

    def create_payment(
        self,
        *,
        amount: Decimal,
        currency: str,
        description: str,
        idempotency_key: str,
        return_url: str,
        metadata: Mapping[str, str],
    ) -> ProviderPayment:
        amount_value(amount)
        payment = ProviderPayment(
            id=_derived_id("payment", idempotency_key),
            status=PaymentStatus.PENDING,
            amount=amount,
            currency=check_currency(currency),
            confirmation_url=return_url,
            paid=False,
            metadata=dict(metadata),
        )
        stored = self._book.stored_payment(payment.id)
        if stored is None:
            return payment
        if (stored.amount, stored.currency) != (amount, currency):
            raise ProviderRejected(
                "this idempotency key was used for another payment", code="invalid_request"
            )
        return stored

    def get_payment(self, payment_id: str) -> ProviderPayment:
        stored = self._book.stored_payment(payment_id)
        if stored is None:
            raise ProviderRejected(f"no bank transfer {payment_id}", code="not_found")
        return stored

    def capture_payment(self, *, payment_id: str, idempotency_key: str) -> ProviderPayment:
        check_idempotency_key(idempotency_key)
        payment = self.get_payment(payment_id)
        if payment.status == PaymentStatus.SUCCEEDED:
            return payment
        if payment.status != PaymentStatus.PENDING:
            raise ProviderRejected(
                f"a {payment.status} transfer cannot be confirmed", code="invalid_request"
            )
        return replace(payment, status=PaymentStatus.SUCCEEDED, paid=True)

    def cancel_payment(self, *, payment_id: str, idempotency_key: str) -> ProviderPayment:
        check_idempotency_key(idempotency_key)
        payment = self.get_payment(payment_id)
        if payment.status == PaymentStatus.CANCELED:
            return payment
        if payment.status != PaymentStatus.PENDING:
            raise ProviderRejected(
                f"a {payment.status} transfer cannot be cancelled; refund it",
                code="invalid_request",
            )
        return replace(
            payment, status=PaymentStatus.CANCELED, cancellation_reason="canceled_by_merchant"
        )

    def create_refund(
        self,
        *,
        payment_id: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
        reason: str,
    ) -> ProviderRefund:
        amount_value(amount)
        refund = ProviderRefund(
            id=_derived_id("refund", idempotency_key),
            payment_id=payment_id,
            status=RefundStatus.PENDING,
            amount=amount,
            currency=currency,
        )
        stored = self._book.stored_refund(refund.id)
        if stored is not None:
            if (stored.payment_id, stored.amount, stored.currency) != (
                payment_id,
                amount,
                currency,
            ):
                raise ProviderRejected(
                    "this idempotency key was used for another refund", code="invalid_request"
                )
            return stored
        payment = self.get_payment(payment_id)
        if payment.status != PaymentStatus.SUCCEEDED:
            raise ProviderRejected(
                f"a {payment.status} transfer has nothing to refund", code="invalid_request"
            )
        if currency != payment.currency or amount > payment.amount:
            raise ProviderRejected(
                f"a refund is at most {payment.amount} {payment.currency}", code="invalid_request"
            )
        return refund

    def get_refund(self, refund_id: str) -> ProviderRefund:
        stored = self._book.stored_refund(refund_id)
        if stored is None:
            raise ProviderRejected(f"no bank transfer refund {refund_id}", code="not_found")
        return stored

    def parse_notification(self, body: bytes, headers: Mapping[str, str]) -> Notification:
        raise NotificationRejected("bank transfers send no notifications", code="not_supported")


def _derived_id(kind: str, idempotency_key: str) -> str:
    """The same id for the same key; the key itself cannot be read back from it."""
    key = check_idempotency_key(idempotency_key)
    return f"bt-{uuid.uuid5(_ID_NAMESPACE, f'{kind}:{key}')}"
