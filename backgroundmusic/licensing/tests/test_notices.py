"""The letters licensing sends (licensing/notices.py): the licences of a paid order, and a
subscription suspended or expired by the recurring job. Each is queued with the change, sent
once, in the person's language, to the verified address only."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import mail
from django.db import transaction

from backgroundmusic.accounts.models import Profile, User
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.licensing import agreements, billing, notices
from backgroundmusic.licensing.models import Agreement, Notice, Order, PaymentMethod
from backgroundmusic.licensing.orders import cart_add
from backgroundmusic.licensing.tasks import send_licensing_notice
from backgroundmusic.licensing.tests.checkout_scene import place
from backgroundmusic.licensing.tests.factories import plan_edition
from backgroundmusic.licensing.tests.paid_orders import paid_order
from backgroundmusic.privacy.tests.test_export import queued, run_queued
from backgroundmusic.staffroles.roles import StaffRole

pytestmark = pytest.mark.django_db

PAID = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
PAID_UNTIL = datetime(2026, 4, 10, 12, 0, tzinfo=UTC)
TASK = "send_licensing_notice"


@pytest.fixture
def transfer_order(buyer, terms, creator_plan) -> Order:
    cart_add(user=buyer, edition_id=creator_plan.pk, quantity=1)
    return place(buyer, terms, payment_method=PaymentMethod.BANK_TRANSFER)


def confirm(order: Order) -> None:
    manager = StaffFactory.create(role=StaffRole.LICENSING_MANAGER)
    billing.bank_transfer_confirm(actor=manager, order=order, reference="statement 7", now=PAID)


def test_a_paid_order_sends_its_licences_once(transfer_order, buyer):
    confirm(transfer_order)
    [agreement] = Agreement.objects.filter(order_line__order=transfer_order)
    [notice] = Notice.objects.all()
    assert (notice.kind, notice.order_id, notice.event_id, notice.sent_at) == (
        Notice.Kind.ORDER_PAID,
        transfer_order.pk,
        None,
        None,
    )
    assert [row.args_kwargs["kwargs"] for row in queued(TASK)] == [{"notice_id": notice.pk}]

    mail.outbox.clear()
    assert run_queued(TASK) == ["sent"]
    assert send_licensing_notice.call(notice_id=notice.pk) == "already sent"
    [message] = mail.outbox
    assert message.to == ["buyer@example.com"]
    assert message.subject == f"Order {transfer_order.public_id} is paid: your licences"
    assert f"Licence {agreement.number}: {agreement.plan_edition.title_en}\n" in message.body
    site = settings.SITE_URL.rstrip("/")
    assert f"(sign in first): {site}/licences/{agreement.number}/\n" in message.body
    assert f"for anyone who asks: {site}/verify/{agreement.certificate.public_id}/\n" in (
        message.body
    )
    assert f"The order and its documents: {site}/orders/{transfer_order.public_id}/\n" in (
        message.body
    )
    assert Notice.objects.get().sent_at is not None


def test_a_rolled_back_payment_queues_nothing(transfer_order):
    with pytest.raises(RuntimeError), transaction.atomic():
        confirm(transfer_order)
        raise RuntimeError("the payment's transaction fails after the confirmation")
    assert (Notice.objects.count(), queued(TASK)) == (0, [])


def test_the_letter_is_in_the_language_of_the_persons_messages(transfer_order, buyer):
    Profile.objects.filter(user=buyer).update(language="ru")
    confirm(transfer_order)
    mail.outbox.clear()
    run_queued(TASK)
    [message] = mail.outbox
    assert f"Заказ {transfer_order.public_id} оплачен" in message.subject
    assert "Спасибо" in message.body


@pytest.mark.parametrize("address_state", ["unverified", "erased"])
def test_nothing_goes_to_an_unverified_address_or_an_erased_account(
    transfer_order, buyer, address_state
):
    confirm(transfer_order)
    if address_state == "unverified":
        EmailAddress.objects.filter(user=buyer).update(verified=False)
    else:
        Order.objects.filter(pk=transfer_order.pk).update(user=None)
    mail.outbox.clear()
    assert run_queued(TASK) == ["no verified address"]
    assert (mail.outbox, Notice.objects.get().sent_at) == ([], None)


@pytest.fixture
def owner() -> User:
    return UserFactory.create(username="owner", email="owner@example.com")


def subscription(owner: User) -> Agreement:
    [agreement] = agreements.agreements_conclude(
        order=paid_order(user=owner, lines=[{"edition": plan_edition()}], paid_at=PAID), now=PAID
    )
    return agreement


def test_a_suspension_and_then_the_expiry_each_send_one_letter(owner):
    agreement = subscription(owner)
    with time_machine.travel(PAID_UNTIL + timedelta(minutes=5), tick=False):
        assert agreements.agreements_lapse(now=PAID_UNTIL + timedelta(minutes=5)) == {
            "suspended": 1
        }
    expiry = PAID_UNTIL + timedelta(days=agreements.SUSPENDED_DAYS_BEFORE_EXPIRY)
    assert agreements.agreements_lapse(now=expiry + timedelta(hours=1)) == {"expired": 1}
    assert list(Notice.objects.order_by("pk").values_list("kind", "event__status_to")) == [
        (Notice.Kind.AGREEMENT_SUSPENDED, Agreement.Status.SUSPENDED),
        (Notice.Kind.AGREEMENT_EXPIRED, Agreement.Status.EXPIRED),
    ]
    mail.outbox.clear()
    assert run_queued(TASK) == ["sent", "sent"]
    suspended, expired = mail.outbox
    assert suspended.to == expired.to == ["owner@example.com"]
    assert f"Licence {agreement.number} is suspended" in suspended.subject
    assert "Pay the next month by 2026-05-10" in suspended.body
    assert f"/licences/{agreement.number}/renew/" in suspended.body
    assert f"Licence {agreement.number} has expired" in expired.subject


def test_a_staff_revocation_sends_no_lapse_letter(owner):
    agreement = subscription(owner)
    manager = StaffFactory.create(role=StaffRole.LICENSING_MANAGER)
    agreements.agreement_revoke(
        actor=manager, agreement=agreement, reason="Chargeback", now=PAID + timedelta(days=1)
    )
    assert Notice.objects.count() == 0


def test_the_queue_is_idempotent_per_order(transfer_order):
    confirm(transfer_order)
    again = notices.notice_queue_order_paid(order=transfer_order)
    assert (Notice.objects.count(), again.pk) == (1, Notice.objects.get().pk)
    assert len(queued(TASK)) == 1


def test_a_real_smtp_server_receives_the_letter(transfer_order, smtp_server):
    confirm(transfer_order)
    run_queued(TASK)
    [received] = smtp_server.messages
    assert received.rcpt_tos == ["buyer@example.com"]
    assert received.subject == f"Order {transfer_order.public_id} is paid: your licences"
    assert "Thank you: order" in received.text
