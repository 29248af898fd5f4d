"""The one interface every payment provider speaks: plain values in and out, errors of our own.

Nothing here knows the licensing models: the service layer turns orders into these calls and
stores what comes back.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

CENTS = Decimal("0.01")
# The YooKassa SDK carries an amount through float (yookassa.domain.models.amount); a value with
# at most 15 significant digits survives that trip exactly, so amounts stay below 10^13.
AMOUNT_LIMIT = Decimal(10) ** 13
CURRENCIES = frozenset({"RUB", "EUR"})
# YooKassa takes keys of at most 64 characters; the licensing models store as many.
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


class PaymentStatus(StrEnum):
    """A payment's state at its provider (YooKassa's four, which bank transfers also fit)."""

    PENDING = "pending"  # waiting for the buyer to pay
    WAITING_FOR_CAPTURE = "waiting_for_capture"  # paid and held: capture takes it, cancel frees it
    SUCCEEDED = "succeeded"  # captured: the money is the shop's
    CANCELED = "canceled"  # declined, expired or cancelled: no money moved, nothing more will


class RefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"


@dataclass(frozen=True)
class ProviderPayment:
    """A payment as its provider holds it now."""

    id: str
    status: PaymentStatus
    amount: Decimal
    currency: str
    # Where the buyer goes to pay: the provider's payment page, or the page that shows the bank
    # details of a transfer.
    confirmation_url: str
    paid: bool
    metadata: Mapping[str, str] = field(default_factory=dict)
    # The provider's reason when canceled (e.g. "expired_on_confirmation", "canceled_by_merchant").
    cancellation_reason: str = ""


@dataclass(frozen=True)
class ProviderRefund:
    id: str
    payment_id: str
    status: RefundStatus
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class Notification:
    """What a webhook names: an event and the id of the object it is about, nothing else.

    Its body is never trusted for status or amount: the service reads the object again from the
    provider (get_payment, get_refund) and acts on that answer.
    """

    event: str
    object_id: str

    @property
    def about_refund(self) -> bool:
        return self.event.startswith("refund.")


class PaymentProviderError(Exception):
    """Base of the errors a provider raises; `code` names the case for logs and tests."""

    code = "provider_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code


class ProviderUnavailable(PaymentProviderError):
    """No answer in time, no connection, a 5xx, a 429 or "still processing": the outcome is
    unknown. Retry later with the same idempotency key; the provider will not act twice."""

    code = "unavailable"


class ProviderRejected(PaymentProviderError):
    """The provider refused the request (a 4xx); `code` is the provider's own error code
    (e.g. "invalid_request", "invalid_credentials", "not_found"), `status` its HTTP status."""

    code = "rejected"

    def __init__(self, message: str, *, code: str, status: int | None = None) -> None:
        super().__init__(message, code=code)
        self.status = status


class NotificationRejected(PaymentProviderError):
    """A webhook body that names no event and object this provider sends."""

    code = "not_a_notification"


class PaymentProvider(Protocol):
    """One payment provider. Every call that creates or changes something takes an idempotency
    key: the same key with the same request gives the same object, so a retry after
    ProviderUnavailable never pays, captures, cancels or refunds twice."""

    name: str

    def create_payment(
        self,
        *,
        amount: Decimal,
        currency: str,
        description: str,
        idempotency_key: str,
        return_url: str,
        metadata: Mapping[str, str],
    ) -> ProviderPayment: ...

    def get_payment(self, payment_id: str) -> ProviderPayment: ...

    def capture_payment(self, *, payment_id: str, idempotency_key: str) -> ProviderPayment:
        """Take the money of a payment the service has checked (the whole amount)."""
        ...

    def cancel_payment(self, *, payment_id: str, idempotency_key: str) -> ProviderPayment: ...

    def create_refund(
        self,
        *,
        payment_id: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
        reason: str,
    ) -> ProviderRefund: ...

    def get_refund(self, refund_id: str) -> ProviderRefund: ...

    def parse_notification(self, body: bytes, headers: Mapping[str, str]) -> Notification: ...


def amount_value(amount: Decimal) -> str:
    """The amount as the providers want it: a positive Decimal with exactly two places, e.g.
    Decimal("990.00") -> "990.00". Anything else is the caller's mistake, never rounded here."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"an amount is a Decimal, not {type(amount).__name__}")
    if not amount.is_finite() or amount.as_tuple().exponent != -2:
        raise ValueError(f"an amount has exactly two decimal places: {amount}")
    if not Decimal(0) < amount < AMOUNT_LIMIT:
        raise ValueError(f"an amount is above 0 and below {AMOUNT_LIMIT}: {amount}")
    return f"{amount:f}"


def check_currency(currency: str) -> str:
    if currency not in CURRENCIES:
        raise ValueError(f"currency {currency!r} is not one of {sorted(CURRENCIES)}")
    return currency


def check_idempotency_key(key: str) -> str:
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise ValueError("an idempotency key is 1 to 64 letters, digits or _ . : -")
    return key
