"""Payments through the YooKassa test double (tests/yookassa_double.py, its own process): the
card path to a paid order, and every notification that must change nothing (replayed, out of
order, forged, about an unknown payment), the provider down or its answer lost."""

import json
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser

from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.audit.models import AuditEvent
from backgroundmusic.audit.tests.refusals import service_denial, service_denials
from backgroundmusic.core.errors import ActionRefused
from backgroundmusic.licensing import billing, orders
from backgroundmusic.licensing.billing import Outcome, ProviderDown
from backgroundmusic.licensing.models import (
    Agreement,
    Order,
    Payment,
    PaymentMethod,
    PaymentNotification,
    Refund,
)
from backgroundmusic.licensing.orders import cart_add
from backgroundmusic.licensing.payments import provider_for
from backgroundmusic.licensing.payments.base import NotificationRejected
from backgroundmusic.licensing.tests.checkout_scene import place
from backgroundmusic.privacy.models import DestructionRecord
from backgroundmusic.privacy.tests.test_erasure import erase
from backgroundmusic.staffroles.roles import StaffRole
from tests.callers import expected_by_caller

pytestmark = pytest.mark.django_db

RETURN_URL = "http://testserver/orders/return/"


@pytest.fixture
def card_order(yookassa_double, buyer, terms, creator_plan, venue_plan) -> Order:
    cart_add(user=buyer, edition_id=creator_plan.pk, quantity=1)
    cart_add(user=buyer, edition_id=venue_plan.pk, quantity=2, use_description="Cafe")
    return place(buyer, terms, payment_method=PaymentMethod.CARD)


def receive(body: str | bytes) -> billing.Received:
    return billing.notification_receive(
        provider_name="yookassa",
        body=body.encode() if isinstance(body, str) else body,
        headers={"Content-Type": "application/json"},
    )


def forged(event: str, payment_id: str, status: str = "succeeded") -> str:
    """A body as an attacker would send it: any event, any status, any amount."""
    return json.dumps(
        {
            "type": "notification",
            "event": event,
            "object": {
                "id": payment_id,
                "status": status,
                "paid": True,
                "amount": {"value": "1.00", "currency": "RUB"},
            },
        }
    )


def last_body(double, event: str) -> str:
    return [note for note in double.notifications() if note["event"] == event][-1]["body"]


def agreements_of(order: Order) -> int:
    return Agreement.objects.filter(order_line__order=order).count()


def test_a_card_payment_pays_the_order(card_order, yookassa_double):
    payment = billing.payment_start(
        order=card_order, provider_name="yookassa", return_url=RETURN_URL
    )
    assert payment.status == Payment.Status.PENDING
    assert (payment.amount, payment.currency) == (card_order.gross_total, "RUB")
    assert payment.confirmation_url == (
        f"{yookassa_double.base_url}/_double/confirm/{payment.provider_payment_id}"
    )
    (at_provider,) = yookassa_double.payments()
    assert at_provider["id"] == payment.provider_payment_id
    assert at_provider["amount"] == {"value": "4788.00", "currency": "RUB"}
    # The SDK adds its own name to the metadata.
    assert at_provider["metadata"] == {
        "order": card_order.public_id,
        "payment": str(payment.pk),
        "cms_name": "yookassa_sdk_python",
    }
    yookassa_double.pay(payment.provider_payment_id)

    received = receive(last_body(yookassa_double, "payment.waiting_for_capture"))

    assert received.notification.outcome == Outcome.PAID
    assert not received.retry_later
    payment.refresh_from_db()
    card_order.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert card_order.status == Order.Status.PAID
    assert card_order.paid_at is not None
    assert agreements_of(card_order) == 2
    (captured,) = yookassa_double.payments()
    assert captured["status"] == "succeeded"
    note = received.notification
    assert (note.provider, note.event, note.object_id) == (
        "yookassa",
        "payment.waiting_for_capture",
        payment.provider_payment_id,
    )


def test_replayed_and_late_notifications_change_nothing(card_order, yookassa_double):
    payment = billing.payment_start(
        order=card_order, provider_name="yookassa", return_url=RETURN_URL
    )
    yookassa_double.pay(payment.provider_payment_id)
    body = last_body(yookassa_double, "payment.waiting_for_capture")
    assert receive(body).notification.outcome == Outcome.PAID
    paid_at = Order.objects.get(pk=card_order.pk).paid_at

    outcomes = [
        receive(body).notification.outcome,
        # The capture's own notification, arriving after the order was paid:
        receive(last_body(yookassa_double, "payment.succeeded")).notification.outcome,
        # A cancellation arriving after success (out of order, or forged): the provider says
        # succeeded, so it stays succeeded.
        receive(
            forged("payment.canceled", payment.provider_payment_id, "canceled")
        ).notification.outcome,
    ]

    assert outcomes == [Outcome.UNCHANGED, Outcome.UNCHANGED, Outcome.UNCHANGED]
    order = Order.objects.get(pk=card_order.pk)
    assert (order.status, order.paid_at) == (Order.Status.PAID, paid_at)
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.SUCCEEDED
    assert agreements_of(order) == 2
    assert PaymentNotification.objects.count() == 4


def test_a_forged_success_is_read_back_from_the_provider(card_order, yookassa_double):
    payment = billing.payment_start(
        order=card_order, provider_name="yookassa", return_url=RETURN_URL
    )
    received = receive(forged("payment.succeeded", payment.provider_payment_id))
    assert received.notification.outcome == Outcome.PENDING
    assert Order.objects.get(pk=card_order.pk).status == Order.Status.AWAITING_PAYMENT
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.PENDING
    assert agreements_of(card_order) == 0
    assert yookassa_double.payments()[0]["status"] == "pending"


def test_notifications_about_unknown_payments_change_nothing(card_order, yookassa_double):
    billing.payment_start(order=card_order, provider_name="yookassa", return_url=RETURN_URL)
    # Not a payment the provider has:
    nowhere = receive(forged("payment.succeeded", str(uuid.uuid4())))
    assert nowhere.notification.outcome == Outcome.NOT_FOUND
    # A payment the provider has, made by someone else (another shop's code, a test):
    stranger = provider_for("yookassa").create_payment(
        amount=card_order.gross_total,
        currency="RUB",
        description="not ours",
        idempotency_key="stranger-1",
        return_url=RETURN_URL,
        metadata={"order": card_order.public_id},
    )
    yookassa_double.pay(stranger.id)
    unknown = receive(last_body(yookassa_double, "payment.waiting_for_capture"))
    assert unknown.notification.outcome == Outcome.UNKNOWN_PAYMENT
    assert Order.objects.get(pk=card_order.pk).status == Order.Status.AWAITING_PAYMENT
    stored = {item["id"]: item["status"] for item in yookassa_double.payments()}
    assert stored[stranger.id] == "waiting_for_capture"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b'{"type": "notification"}',
        b'{"type": "notification", "event": "payment.succeeded", "object": {"id": "x"}}',
        b'{"type": "notification", "event": "payment.stolen", "object": {"id": "'
        + str(uuid.uuid4()).encode()
        + b'"}}',
        b'{"type": "notification", "event": "payment.succeeded\\u0000", "object": {}}',
        b'{"type": "notification", "event": "payment.succeeded\\ud800", "object": {"id": "a"}}',
        b'{"type": "notification", "event": "payment.\xe2\x80\xaesucceeded", "object": {}}',
        b"[" * 1000 + b"]" * 1000,
        b'{"type": "notification", "event": "payment.succeeded", "object": {"id": "a\xff"}}',
    ],
)
def test_malformed_notifications_are_refused(yookassa_double, body):
    with pytest.raises(NotificationRejected):
        receive(body)
    assert not PaymentNotification.objects.exists()


def test_provider_down_at_start_keeps_the_order_waiting(card_order, yookassa_double):
    yookassa_double.set_mode("fail")
    with pytest.raises(ProviderDown) as refused:
        billing.payment_start(order=card_order, provider_name="yookassa", return_url=RETURN_URL)
    assert "try again" in refused.value.message
    (waiting,) = Payment.objects.filter(order=card_order)
    assert (waiting.status, waiting.provider_payment_id) == (Payment.Status.PENDING, "")
    assert Order.objects.get(pk=card_order.pk).status == Order.Status.AWAITING_PAYMENT

    yookassa_double.set_mode("up")
    payment = billing.payment_start(
        order=card_order, provider_name="yookassa", return_url=RETURN_URL
    )

    assert payment.pk == waiting.pk
    assert payment.idempotency_key == waiting.idempotency_key
    assert [item["id"] for item in yookassa_double.payments()] == [payment.provider_payment_id]


def test_an_answer_lost_on_the_way_is_found_again(card_order, yookassa_double, settings):
    settings.YOOKASSA_TIMEOUT_SECONDS = 1.0
    yookassa_double.set_mode("hang")
    with pytest.raises(ProviderDown):
        billing.payment_start(order=card_order, provider_name="yookassa", return_url=RETURN_URL)
    yookassa_double.set_mode("up")
    (made,) = yookassa_double.payments()
    (waiting,) = Payment.objects.filter(order=card_order)
    assert waiting.provider_payment_id == ""
    # The buyer paid on a page we never showed (or the notification outran our retry): the
    # notification finds the row through the metadata we sent.
    yookassa_double.pay(made["id"])
    received = receive(last_body(yookassa_double, "payment.waiting_for_capture"))
    assert received.notification.outcome == Outcome.PAID
    waiting.refresh_from_db()
    assert (waiting.provider_payment_id, waiting.status) == (made["id"], Payment.Status.SUCCEEDED)
    assert len(yookassa_double.payments()) == 1


def test_a_retry_after_a_lost_answer_reaches_the_same_payment(
    card_order, yookassa_double, settings
):
    settings.YOOKASSA_TIMEOUT_SECONDS = 1.0
    yookassa_double.set_mode("hang")
    with pytest.raises(ProviderDown):
        billing.payment_start(order=card_order, provider_name="yookassa", return_url=RETURN_URL)
    yookassa_double.set_mode("up")
    payment = billing.payment_start(
        order=card_order, provider_name="yookassa", return_url=RETURN_URL
    )
    (made,) = yookassa_double.payments()
    assert payment.provider_payment_id == made["id"]
    assert Payment.objects.filter(order=card_order).count() == 1


def test_provider_down_during_a_notification_asks_for_it_again(card_order, yookassa_double):
    payment = billing.payment_start(
        order=card_order, provider_name="yookassa", return_url=RETURN_URL
    )
    yookassa_double.pay(payment.provider_payment_id)
    body = last_body(yookassa_double, "payment.waiting_for_capture")
    yookassa_double.set_mode("fail")

    received = receive(body)

    assert received.notification.outcome == Outcome.PROVIDER_UNAVAILABLE
    assert received.retry_later
    assert Order.objects.get(pk=card_order.pk).status == Order.Status.AWAITING_PAYMENT
    yookassa_double.set_mode("up")
    assert receive(body).notification.outcome == Outcome.PAID


def test_a_declined_card_lets_the_buyer_try_again(card_order, yookassa_double):
    first = billing.payment_start(order=card_order, provider_name="yookassa", return_url=RETURN_URL)
    yookassa_double.decline(first.provider_payment_id)
    assert receive(last_body(yookassa_double, "payment.canceled")).notification.outcome == (
        Outcome.CANCELED
    )
    second = billing.payment_start(
        order=card_order, provider_name="yookassa", return_url=RETURN_URL
    )
    assert second.pk != first.pk
    assert second.idempotency_key != first.idempotency_key
    assert Payment.objects.get(pk=first.pk).status == Payment.Status.CANCELED
    assert Order.objects.get(pk=card_order.pk).status == Order.Status.AWAITING_PAYMENT


def test_the_buyers_return_syncs_the_payment(card_order, yookassa_double):
    payment = billing.payment_start(
        order=card_order, provider_name="yookassa", return_url=RETURN_URL
    )
    yookassa_double.pay(payment.provider_payment_id)
    assert billing.payment_sync(payment=payment) == Outcome.PAID
    assert Order.objects.get(pk=card_order.pk).status == Order.Status.PAID
    payment.refresh_from_db()
    assert billing.payment_sync(payment=payment) == Outcome.UNCHANGED


def test_the_buyer_cancels_and_a_held_payment_is_released(card_order, yookassa_double, buyer):
    payment = billing.payment_start(
        order=card_order, provider_name="yookassa", return_url=RETURN_URL
    )
    yookassa_double.pay(payment.provider_payment_id)

    billing.order_cancel(actor=buyer, order=card_order)

    order = Order.objects.get(pk=card_order.pk)
    assert (order.status, order.closed_at is not None) == (Order.Status.CANCELLED, True)
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.CANCELED
    assert yookassa_double.payments()[0]["status"] == "canceled"
    assert agreements_of(order) == 0
    with pytest.raises(billing.PaymentError) as refused:
        billing.payment_start(order=order, provider_name="yookassa", return_url=RETURN_URL)
    assert refused.value.code == "order_not_awaiting_payment"


def test_a_payment_made_after_cancelling_is_cancelled_at_the_provider(
    card_order, yookassa_double, buyer
):
    payment = billing.payment_start(
        order=card_order, provider_name="yookassa", return_url=RETURN_URL
    )
    billing.order_cancel(actor=buyer, order=card_order)
    # The buyer still had the provider's page open and paid there.
    yookassa_double.pay(payment.provider_payment_id)
    received = receive(last_body(yookassa_double, "payment.waiting_for_capture"))
    assert received.notification.outcome == Outcome.CANCELED
    assert yookassa_double.payments()[0]["status"] == "canceled"
    assert Order.objects.get(pk=card_order.pk).status == Order.Status.CANCELLED


def test_another_person_may_not_cancel(card_order, yookassa_double):
    stranger = UserFactory.create(username="stranger")
    with pytest.raises(ActionRefused):
        billing.order_cancel(actor=stranger, order=card_order)
    assert Order.objects.get(pk=card_order.pk).status == Order.Status.AWAITING_PAYMENT
    assert service_denials() == [
        service_denial(
            stranger, service="licensing.order_cancel", permission="staff_may_manage_orders"
        )
    ]


@pytest.fixture
def manager():
    return StaffFactory.create(role=StaffRole.LICENSING_MANAGER, username="manager")


def paid_by_card(order: Order, double) -> Payment:
    payment = billing.payment_start(order=order, provider_name="yookassa", return_url=RETURN_URL)
    double.pay(payment.provider_payment_id)
    assert billing.payment_sync(payment=payment) == Outcome.PAID
    payment.refresh_from_db()
    return payment


def test_a_partial_then_a_full_refund_through_the_provider(card_order, yookassa_double, manager):
    payment = paid_by_card(card_order, yookassa_double)

    partial = billing.payment_refund(
        actor=manager, payment=payment, amount="1000.00", reason="One venue closed"
    )

    assert (partial.status, partial.amount) == (Refund.Status.SUCCEEDED, Decimal("1000.00"))
    assert Order.objects.get(pk=card_order.pk).status == Order.Status.PAID
    with pytest.raises(billing.PaymentError) as refused:
        billing.payment_refund(actor=manager, payment=payment, amount="3788.01", reason="All")
    assert refused.value.code == "refund_too_large"

    billing.payment_refund(actor=manager, payment=payment, amount="3788.00", reason="All")

    order = Order.objects.get(pk=card_order.pk)
    assert order.status == Order.Status.REFUNDED
    assert set(
        Agreement.objects.filter(order_line__order=order).values_list("status", flat=True)
    ) == {Agreement.Status.REVOKED}
    assert [item["amount"]["value"] for item in yookassa_double.refunds()] == [
        "1000.00",
        "3788.00",
    ]
    events = AuditEvent.objects.filter(action="order.refund").order_by("pk")
    assert [(event.actor_id, event.after["amount"]) for event in events] == [
        (manager.pk, "1000.00"),
        (manager.pk, "3788.00"),
    ]
    # The provider's refund notifications, replayed, change nothing.
    for note in yookassa_double.notifications():
        if note["event"] == "refund.succeeded":
            assert receive(note["body"]).notification.outcome == Outcome.UNCHANGED


def test_a_refund_while_the_provider_is_down_is_retried_with_its_key(
    card_order, yookassa_double, manager
):
    payment = paid_by_card(card_order, yookassa_double)
    yookassa_double.set_mode("fail")
    with pytest.raises(ProviderDown):
        billing.payment_refund(actor=manager, payment=payment, amount="10.00", reason="Goodwill")
    (waiting,) = Refund.objects.all()
    assert (waiting.status, waiting.provider_refund_id) == (Refund.Status.PENDING, "")
    yookassa_double.set_mode("up")
    with pytest.raises(billing.PaymentError) as refused:
        billing.payment_refund(actor=manager, payment=payment, amount="20.00", reason="Goodwill")
    assert refused.value.code == "refund_waiting"
    done = billing.payment_refund(actor=manager, payment=payment, amount="10.00", reason="Goodwill")
    assert (done.pk, done.status) == (waiting.pk, Refund.Status.SUCCEEDED)
    assert len(yookassa_double.refunds()) == 1


STAFF_ORDER_SERVICES = (
    "orders_for_staff",
    "order_for_staff",
    "order_cancel",
    "bank_transfer_confirm",
    "payment_refund",
)


@pytest.mark.parametrize(
    ("kind", "allowed"),
    expected_by_caller({"licensing_manager"}, allowed_outcome=True, refused_outcome=False).items(),
)
def test_staff_services_are_for_the_licensing_manager(
    caller_for, kind, allowed, card_order, yookassa_double
):
    """The buyer of this order is not among these callers ("owner" is the scene's other person).
    A refused caller is recorded once per service; the manager's confirmations and refunds are
    tested above and in test_orders.py."""
    payment = billing.payment_start(
        order=card_order, provider_name="yookassa", return_url=RETURN_URL
    )
    actor = caller_for(kind).user or AnonymousUser()
    if allowed:
        assert list(orders.orders_for_staff(actor=actor)) == [card_order]
        assert orders.order_for_staff(actor=actor, public_id=card_order.public_id) == card_order
        billing.order_cancel(actor=actor, order=card_order, reason="Asked by phone")
        assert list(
            AuditEvent.objects.filter(action__startswith="order.").values_list(
                "actor_id", "action", "target_id", "reason"
            )
        ) == [(actor.pk, "order.cancelled", str(card_order.pk), "Asked by phone")]
        assert service_denials() == []
        return
    with pytest.raises(ActionRefused):
        orders.orders_for_staff(actor=actor)
    with pytest.raises(ActionRefused):
        orders.order_for_staff(actor=actor, public_id=card_order.public_id)
    with pytest.raises(ActionRefused):
        billing.order_cancel(actor=actor, order=card_order, reason="Asked by phone")
    with pytest.raises(ActionRefused):
        billing.bank_transfer_confirm(
            actor=actor, order=card_order, reference="line 1", now=card_order.created_at
        )
    with pytest.raises(ActionRefused):
        billing.payment_refund(actor=actor, payment=payment, amount="10.00", reason="Goodwill")
    assert Order.objects.get(pk=card_order.pk).status == Order.Status.AWAITING_PAYMENT
    assert list(Payment.objects.values_list("pk", "status")) == [
        (payment.pk, Payment.Status.PENDING)
    ]
    assert not Refund.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="order.").exists()
    assert service_denials() == [
        service_denial(actor, service=f"licensing.{service}", permission="staff_may_manage_orders")
        for service in STAFF_ORDER_SERVICES
    ]


def test_erasing_the_buyer_cancels_what_waits_for_payment_and_nothing_pays_it_later(
    card_order, yookassa_double, buyer, terms, creator_plan, manager
):
    held = billing.payment_start(order=card_order, provider_name="yookassa", return_url=RETURN_URL)
    yookassa_double.pay(held.provider_payment_id)
    cart_add(user=buyer, edition_id=creator_plan.pk, quantity=1)
    transfer_order = place(buyer, terms, payment_method=PaymentMethod.BANK_TRANSFER)

    job = erase(buyer)

    assert job.status == "done"
    assert sorted(
        Order.objects.filter(pk__in=[card_order.pk, transfer_order.pk]).values_list(
            "status", "user"
        )
    ) == [(Order.Status.CANCELLED, None), (Order.Status.CANCELLED, None)]
    assert Payment.objects.get(pk=held.pk).status == Payment.Status.CANCELED
    assert yookassa_double.payments()[0]["status"] == "canceled"
    assert (
        DestructionRecord.objects.get().counts["licensing: orders awaiting payment, cancelled"] == 2
    )
    with pytest.raises(billing.PaymentError) as refused:
        billing.bank_transfer_confirm(
            actor=manager, order=transfer_order, reference="statement 9", now=card_order.created_at
        )
    assert refused.value.code == "order_not_awaiting_payment"
    assert Agreement.objects.count() == 0
