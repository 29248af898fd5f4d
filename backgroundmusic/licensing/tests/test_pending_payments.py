"""The recurring re-read of pending card payments (billing.payments_pending_sync, the job
sync_pending_payments), against the YooKassa test double (tests/yookassa_double.py, its own
process) with no notification delivered: the double only records them."""

from datetime import timedelta

import pytest
import time_machine

from backgroundmusic.core.models import ScheduledRun
from backgroundmusic.core.schedule import schedule_due_jobs
from backgroundmusic.licensing import billing
from backgroundmusic.licensing.models import Agreement, Order, Payment, PaymentMethod
from backgroundmusic.licensing.orders import cart_add
from backgroundmusic.licensing.tasks import sync_pending_payments
from backgroundmusic.licensing.tests.checkout_scene import place
from backgroundmusic.recurring import RECURRING_JOBS

pytestmark = pytest.mark.django_db

RETURN_URL = "http://testserver/orders/return/"
LATER = billing.PENDING_SYNC_AFTER + timedelta(seconds=1)


def card_order(user, terms, edition) -> Order:
    cart_add(user=user, edition_id=edition.pk, quantity=1)
    return place(user, terms, payment_method=PaymentMethod.CARD)


def started(order: Order) -> Payment:
    return billing.payment_start(order=order, provider_name="yookassa", return_url=RETURN_URL)


def state(payment: Payment) -> tuple[str, str, int]:
    payment.refresh_from_db()
    order = Order.objects.get(pk=payment.order_id)
    agreements = Agreement.objects.filter(order_line__order=order).count()
    return payment.status, order.status, agreements


@pytest.fixture
def paid_at_provider(yookassa_double, buyer, terms, creator_plan) -> Payment:
    """The buyer paid on YooKassa's page; the notification never reached us."""
    payment = started(card_order(buyer, terms, creator_plan))
    yookassa_double.pay(payment.provider_payment_id)
    assert state(payment) == (Payment.Status.PENDING, Order.Status.AWAITING_PAYMENT, 0)
    return payment


def test_a_payment_whose_notification_never_came_is_captured_and_its_order_paid(
    paid_at_provider, yookassa_double
):
    assert billing.payments_pending_sync(now=paid_at_provider.created_at + LATER) == {"paid": 1}

    assert state(paid_at_provider) == (Payment.Status.SUCCEEDED, Order.Status.PAID, 1)
    (at_provider,) = yookassa_double.payments()
    assert at_provider["status"] == "succeeded"
    # Paid now: nothing is left to ask about.
    assert billing.payments_pending_sync(now=paid_at_provider.created_at + 2 * LATER) == {}


def test_a_young_payment_is_left_to_its_notification(paid_at_provider):
    young = paid_at_provider.created_at + billing.PENDING_SYNC_AFTER - timedelta(seconds=1)
    assert billing.payments_pending_sync(now=young) == {}
    assert state(paid_at_provider) == (Payment.Status.PENDING, Order.Status.AWAITING_PAYMENT, 0)


def test_a_declined_card_is_closed_and_an_unpaid_one_waits(
    yookassa_double, buyer, company, terms, creator_plan
):
    declined = started(card_order(buyer, terms, creator_plan))
    yookassa_double.decline(declined.provider_payment_id)
    unpaid = started(card_order(company, terms, creator_plan))

    outcomes = billing.payments_pending_sync(now=unpaid.created_at + LATER)

    assert outcomes == {"canceled": 1, "pending": 1}
    assert state(declined) == (Payment.Status.CANCELED, Order.Status.AWAITING_PAYMENT, 0)
    assert state(unpaid) == (Payment.Status.PENDING, Order.Status.AWAITING_PAYMENT, 0)


def test_provider_down_leaves_every_payment_pending_and_the_next_run_pays(
    paid_at_provider, yookassa_double, company, terms, creator_plan
):
    other = started(card_order(company, terms, creator_plan))
    yookassa_double.pay(other.provider_payment_id)
    yookassa_double.set_mode("fail")

    outcomes = billing.payments_pending_sync(now=other.created_at + LATER)

    # The first call failed, so the run stopped there; nothing changed, nothing was raised.
    assert outcomes == {"provider_unavailable": 1}
    for payment in (paid_at_provider, other):
        assert state(payment) == (Payment.Status.PENDING, Order.Status.AWAITING_PAYMENT, 0)
    assert {item["status"] for item in yookassa_double.payments()} == {"waiting_for_capture"}

    yookassa_double.set_mode("up")
    assert billing.payments_pending_sync(now=other.created_at + LATER) == {"paid": 2}
    for payment in (paid_at_provider, other):
        assert state(payment) == (Payment.Status.SUCCEEDED, Order.Status.PAID, 1)


def test_a_payment_the_provider_does_not_know_is_counted_and_the_rest_go_on(
    paid_at_provider, yookassa_double, company, terms, creator_plan
):
    lost = started(card_order(company, terms, creator_plan))
    Payment.objects.filter(pk=lost.pk).update(
        provider_payment_id="2f0e7c4b-000f-5000-9000-1d2c3b4a5f6e",
        created_at=paid_at_provider.created_at - timedelta(minutes=1),
    )

    outcomes = billing.payments_pending_sync(now=paid_at_provider.created_at + LATER)

    assert outcomes == {"not_found": 1, "paid": 1}
    assert state(lost) == (Payment.Status.PENDING, Order.Status.AWAITING_PAYMENT, 0)
    assert state(paid_at_provider) == (Payment.Status.SUCCEEDED, Order.Status.PAID, 1)


def test_bank_transfers_are_not_asked(yookassa_double, company, terms, creator_plan):
    cart_add(user=company, edition_id=creator_plan.pk, quantity=1)
    order = place(company, terms, payment_method=PaymentMethod.BANK_TRANSFER)
    transfer = billing.payment_start(
        order=order, provider_name="bank_transfer", return_url=RETURN_URL
    )
    assert billing.payments_pending_sync(now=transfer.created_at + LATER) == {}
    assert state(transfer) == (Payment.Status.PENDING, Order.Status.AWAITING_PAYMENT, 0)


def test_without_the_card_provider_the_job_does_nothing(settings):
    settings.PAYMENT_PROVIDERS = ["bank_transfer"]
    assert sync_pending_payments.call() == {}


def test_the_recurring_job_runs_every_five_minutes(paid_at_provider):
    jobs = [job for job in RECURRING_JOBS if job.name == "sync_pending_payments"]
    assert [job.task for job in jobs] == ["backgroundmusic.licensing.tasks.sync_pending_payments"]
    with time_machine.travel(paid_at_provider.created_at + LATER, tick=False):
        first = schedule_due_jobs(jobs=jobs)
        again = schedule_due_jobs(jobs=jobs)
        assert sync_pending_payments.call() == {"paid": 1}
    assert len(first) == 1
    assert first[0].slot.minute % 5 == 0
    assert again == []
    assert ScheduledRun.objects.filter(job="sync_pending_payments").count() == 1
    assert state(paid_at_provider) == (Payment.Status.SUCCEEDED, Order.Status.PAID, 1)
