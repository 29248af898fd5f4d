"""Bank transfer: no call leaves the server; it answers from what the service stored."""

from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from backgroundmusic.licensing.payments.bank_transfer import BankTransferProvider
from backgroundmusic.licensing.payments.base import (
    NotificationRejected,
    PaymentStatus,
    ProviderPayment,
    ProviderRefund,
    ProviderRejected,
    RefundStatus,
)

INVOICE_PAGE = "http://127.0.0.1:8000/licences/orders/BM-7/"


@dataclass
class StoredTransfers:
    """Stands for the service layer's records: keeps each answer the service would store."""

    payments: dict[str, ProviderPayment] = field(default_factory=dict)
    refunds: dict[str, ProviderRefund] = field(default_factory=dict)

    def stored_payment(self, payment_id: str) -> ProviderPayment | None:
        return self.payments.get(payment_id)

    def stored_refund(self, refund_id: str) -> ProviderRefund | None:
        return self.refunds.get(refund_id)

    def keep(self, answer: ProviderPayment | ProviderRefund) -> None:
        if isinstance(answer, ProviderPayment):
            self.payments[answer.id] = answer
        else:
            self.refunds[answer.id] = answer


@pytest.fixture
def book() -> StoredTransfers:
    return StoredTransfers()


@pytest.fixture
def provider(book: StoredTransfers) -> BankTransferProvider:
    return BankTransferProvider(book=book)


def _order_payment(
    provider: BankTransferProvider, key: str = "order-7-payment-1", amount="12000.00"
):  # type: ignore[no-untyped-def]
    return provider.create_payment(
        amount=Decimal(amount),
        currency="RUB",
        description="Order BM-7: venue plan",
        idempotency_key=key,
        return_url=INVOICE_PAGE,
        metadata={"order": "BM-7"},
    )


def _confirmed(provider: BankTransferProvider, book: StoredTransfers) -> ProviderPayment:
    payment = _order_payment(provider)
    book.keep(payment)
    confirmed = provider.capture_payment(payment_id=payment.id, idempotency_key="confirm-1")
    book.keep(confirmed)
    return confirmed


def test_a_transfer_waits_for_staff_and_sends_the_buyer_to_the_invoice(provider):
    payment = _order_payment(provider)

    assert payment.status == PaymentStatus.PENDING
    assert (payment.amount, payment.currency, payment.paid) == (Decimal("12000.00"), "RUB", False)
    assert payment.confirmation_url == INVOICE_PAGE
    assert payment.metadata == {"order": "BM-7"}
    assert payment.id.startswith("bt-")
    assert "order-7" not in payment.id


def test_the_same_key_gives_the_same_payment_another_key_another(provider, book):
    first = _order_payment(provider)
    book.keep(first)

    assert _order_payment(provider) == first
    assert _order_payment(provider, key="order-7-payment-2").id != first.id


def test_the_same_key_for_another_amount_is_rejected(provider, book):
    book.keep(_order_payment(provider))

    with pytest.raises(ProviderRejected) as rejected:
        _order_payment(provider, amount="12000.01")

    assert rejected.value.code == "invalid_request"


def test_staff_confirmation_captures_a_pending_transfer_once(provider, book):
    confirmed = _confirmed(provider, book)

    assert (confirmed.status, confirmed.paid) == (PaymentStatus.SUCCEEDED, True)
    assert provider.get_payment(confirmed.id) == confirmed
    assert provider.capture_payment(payment_id=confirmed.id, idempotency_key="confirm-2") == (
        confirmed
    )


def test_a_pending_transfer_can_be_cancelled_and_then_not_confirmed(provider, book):
    payment = _order_payment(provider)
    book.keep(payment)

    cancelled = provider.cancel_payment(payment_id=payment.id, idempotency_key="cancel-1")
    book.keep(cancelled)

    assert (cancelled.status, cancelled.cancellation_reason) == (
        PaymentStatus.CANCELED,
        "canceled_by_merchant",
    )
    assert provider.cancel_payment(payment_id=payment.id, idempotency_key="cancel-2") == cancelled
    with pytest.raises(ProviderRejected) as rejected:
        provider.capture_payment(payment_id=payment.id, idempotency_key="confirm-1")
    assert rejected.value.code == "invalid_request"


def test_a_confirmed_transfer_is_refunded_not_cancelled(provider, book):
    confirmed = _confirmed(provider, book)

    with pytest.raises(ProviderRejected) as rejected:
        provider.cancel_payment(payment_id=confirmed.id, idempotency_key="cancel-1")

    assert rejected.value.code == "invalid_request"


def test_a_refund_waits_for_staff_to_send_it_back(provider, book):
    confirmed = _confirmed(provider, book)

    refund = provider.create_refund(
        payment_id=confirmed.id,
        amount=Decimal("4000.00"),
        currency="RUB",
        idempotency_key="refund-1",
        reason="One location closed",
    )
    book.keep(refund)

    assert (refund.status, refund.amount, refund.currency, refund.payment_id) == (
        RefundStatus.PENDING,
        Decimal("4000.00"),
        "RUB",
        confirmed.id,
    )
    assert provider.get_refund(refund.id) == refund
    assert (
        provider.create_refund(
            payment_id=confirmed.id,
            amount=Decimal("4000.00"),
            currency="RUB",
            idempotency_key="refund-1",
            reason="One location closed",
        )
        == refund
    )


@pytest.mark.parametrize(
    "amount, currency", [("12000.01", "RUB"), ("100.00", "EUR")], ids=["too much", "currency"]
)
def test_a_refund_is_at_most_the_payment_in_its_currency(provider, book, amount, currency):
    confirmed = _confirmed(provider, book)

    with pytest.raises(ProviderRejected) as rejected:
        provider.create_refund(
            payment_id=confirmed.id,
            amount=Decimal(amount),
            currency=currency,
            idempotency_key="refund-1",
            reason="Too much",
        )

    assert rejected.value.code == "invalid_request"


def test_an_unconfirmed_transfer_has_nothing_to_refund(provider, book):
    payment = _order_payment(provider)
    book.keep(payment)

    with pytest.raises(ProviderRejected) as rejected:
        provider.create_refund(
            payment_id=payment.id,
            amount=Decimal("1.00"),
            currency="RUB",
            idempotency_key="refund-1",
            reason="Nothing paid",
        )

    assert rejected.value.code == "invalid_request"


def test_what_the_service_never_stored_is_not_found(provider):
    with pytest.raises(ProviderRejected) as payment:
        provider.get_payment("bt-unknown")
    with pytest.raises(ProviderRejected) as refund:
        provider.get_refund("bt-unknown")

    assert (payment.value.code, refund.value.code) == ("not_found", "not_found")


def test_a_transfer_takes_no_notifications(provider):
    with pytest.raises(NotificationRejected) as refused:
        provider.parse_notification(b'{"event": "payment.succeeded"}', {})

    assert refused.value.code == "not_supported"


@pytest.mark.parametrize(
    "amount, error", [(12000, TypeError), ("12000.00", TypeError), (Decimal("12000"), ValueError)]
)
def test_an_amount_is_a_decimal_with_two_places(provider, amount, error):
    with pytest.raises(error):
        provider.create_payment(
            amount=amount,
            currency="RUB",
            description="Order BM-7",
            idempotency_key="order-7-payment-1",
            return_url=INVOICE_PAGE,
            metadata={},
        )
