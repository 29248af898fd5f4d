"""Payments of orders through the providers (licensing/payments/), their notifications, staff's
confirmation of bank transfers, refunds and cancellations.

How a payment goes, whatever the provider:
1. `payment_start` stores a Payment row with its idempotency key and commits, and only then asks
   the provider to create the payment. When the provider does not answer, the row stays pending
   with no provider id, the order keeps waiting, and the next attempt sends the same key, so the
   provider makes at most one payment.
2. The provider's answer, a notification, the buyer's return, `payment_sync` and the recurring
   `payments_pending_sync` (a card payment whose notification never came) all end in the same
   place: the payment as the provider says it is now (re-read, never taken from a webhook's
   body) is reconciled with the row. Card payments are two-stage: a payment waiting for capture
   is captured when it matches the order (amount, currency) and the order still waits, and
   cancelled otherwise. A succeeded payment makes the order paid and concludes its agreements
   (`agreements.agreements_conclude`) in the same transaction.
3. States only move forward: pending to succeeded or canceled. A replayed notification, one that
   arrives after a later one, or one about an unknown payment changes nothing; each is recorded
   with its outcome (PaymentNotification).

Staff's actions (`bank_transfer_confirm`, `payment_refund`, `order_cancel` by staff) ask
`staff_may_manage_orders` and write their audit row in the transaction of their change.
"""

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from backgroundmusic.accounts.models import User
from backgroundmusic.audit.models import AuditAction
from backgroundmusic.audit.refusals import refusals_audited
from backgroundmusic.audit.services import audit_record
from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.core.text import TextKind, check_text
from backgroundmusic.licensing import agreements, notices
from backgroundmusic.licensing.invoices import accounting_keep_until
from backgroundmusic.licensing.models import (
    Agreement,
    Order,
    Payment,
    PaymentMethod,
    PaymentNotification,
    Refund,
)
from backgroundmusic.licensing.orders import PAYMENT_PROVIDER
from backgroundmusic.licensing.payments import provider_for
from backgroundmusic.licensing.payments.base import (
    PaymentProvider,
    PaymentStatus,
    ProviderPayment,
    ProviderRefund,
    ProviderRejected,
    ProviderUnavailable,
    RefundStatus,
)
from backgroundmusic.staffroles.selectors import Actor, staff_may_manage_orders, staff_require

CENT = Decimal("0.01")
REFERENCE_MAX = 140
REASON_MAX = 1000


class PaymentError(DomainError):
    code = "payment_refused"


class ProviderDown(PaymentError):
    """The provider did not answer: nothing is lost, the same call may be tried again."""

    code = "provider_unavailable"


class Outcome(StrEnum):
    """What reconciling a payment (or a refund) with its provider did; notifications keep it."""

    PAID = "paid"
    CANCELED = "canceled"
    PENDING = "pending"
    UNCHANGED = "unchanged"
    # The provider says another final state than the row holds (e.g. canceled after
    # succeeded): the row keeps its state.
    CONFLICT = "conflict"
    AMOUNT_MISMATCH = "amount_mismatch"
    UNKNOWN_PAYMENT = "unknown_payment"
    UNKNOWN_REFUND = "unknown_refund"
    # Paid while the order was already cancelled (the buyer paid an old card page): staff refund.
    PAID_AFTER_CLOSE = "paid_after_close"
    REFUNDED = "refunded"
    NOT_FOUND = "not_found"
    PROVIDER_UNAVAILABLE = "provider_unavailable"
    PROVIDER_REJECTED = "provider_rejected"


_ROW_STATUS = {
    PaymentStatus.PENDING: Payment.Status.PENDING,
    PaymentStatus.WAITING_FOR_CAPTURE: Payment.Status.PENDING,
    PaymentStatus.SUCCEEDED: Payment.Status.SUCCEEDED,
    PaymentStatus.CANCELED: Payment.Status.CANCELED,
}


def _new_key() -> str:
    return uuid.uuid4().hex


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT)


def _provider_unavailable() -> ProviderDown:
    return ProviderDown(
        _(
            "The payment service did not answer. Your order is kept and waits for payment; "
            "nothing was charged twice. Please try again in a few minutes."
        )
    )


class StoredTransfers:
    """The bank-transfer provider's book (payments/bank_transfer.py TransferBook): the transfers
    and refunds as the service stored them."""

    def stored_payment(self, payment_id: str) -> ProviderPayment | None:
        row = (
            Payment.objects.filter(provider="bank_transfer", provider_payment_id=payment_id)
            .select_related("order")
            .first()
        )
        if row is None:
            return None
        return ProviderPayment(
            id=row.provider_payment_id,
            status=PaymentStatus(row.status),
            amount=_cents(row.amount),
            currency=row.currency,
            confirmation_url=row.confirmation_url,
            paid=row.status == Payment.Status.SUCCEEDED,
            metadata={"order": row.order.public_id, "payment": str(row.pk)},
        )

    def stored_refund(self, refund_id: str) -> ProviderRefund | None:
        row = (
            Refund.objects.filter(payment__provider="bank_transfer", provider_refund_id=refund_id)
            .select_related("payment")
            .first()
        )
        if row is None:
            return None
        return ProviderRefund(
            id=row.provider_refund_id,
            payment_id=row.payment.provider_payment_id,
            status=RefundStatus(row.status),
            amount=_cents(row.amount),
            currency=row.payment.currency,
        )


def _order_paid(*, order: Order, now: datetime) -> None:
    """The order is paid: its status, and its agreements, in the caller's transaction."""
    order.status = Order.Status.PAID
    order.paid_at = now
    order.keep_until = accounting_keep_until(now)
    order.save(update_fields=["status", "paid_at", "keep_until"])
    agreements.agreements_conclude(order=order, now=now)
    notices.notice_queue_order_paid(order=order)


def _payment_apply(*, payment_id: int, answer: ProviderPayment) -> Outcome:
    """Brings the row to what the provider says, forward only; the outcome."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        order = Order.objects.select_for_update().get(pk=payment.order_id)
        now = clock.now()
        changed = []
        if not payment.provider_payment_id:
            payment.provider_payment_id = answer.id
            changed.append("provider_payment_id")
        elif payment.provider_payment_id != answer.id:
            return Outcome.CONFLICT
        if answer.confirmation_url and answer.confirmation_url != payment.confirmation_url:
            payment.confirmation_url = answer.confirmation_url
            changed.append("confirmation_url")
        status = _ROW_STATUS[answer.status]
        outcome = Outcome.UNCHANGED
        if status != payment.status:
            if payment.status != Payment.Status.PENDING:
                outcome = Outcome.CONFLICT
            elif status == Payment.Status.SUCCEEDED:
                if (_cents(answer.amount), answer.currency) != (
                    _cents(payment.amount),
                    payment.currency,
                ):
                    outcome = Outcome.AMOUNT_MISMATCH
                else:
                    payment.status = status
                    changed.append("status")
                    if order.status == Order.Status.AWAITING_PAYMENT:
                        _order_paid(order=order, now=now)
                        outcome = Outcome.PAID
                    else:
                        outcome = Outcome.PAID_AFTER_CLOSE
            else:
                payment.status = status
                changed.append("status")
                outcome = Outcome.CANCELED
        elif status == Payment.Status.PENDING:
            outcome = Outcome.PENDING
        if changed:
            payment.updated_at = now
            payment.save(update_fields=[*changed, "updated_at"])
        return outcome


def _may_capture(payment: Payment, answer: ProviderPayment) -> bool:
    order = Order.objects.only("status").get(pk=payment.order_id)
    return (
        order.status == Order.Status.AWAITING_PAYMENT
        and payment.status == Payment.Status.PENDING
        and (_cents(answer.amount), answer.currency) == (_cents(payment.amount), payment.currency)
    )


def _reconcile(*, provider: PaymentProvider, payment: Payment, answer: ProviderPayment) -> Outcome:
    """Captures a payment waiting for capture that matches its waiting order, cancels one that
    does not, then applies what the provider says. May raise ProviderUnavailable."""
    if answer.status == PaymentStatus.WAITING_FOR_CAPTURE:
        if _may_capture(payment, answer):
            answer = provider.capture_payment(
                payment_id=answer.id, idempotency_key=f"{payment.idempotency_key}-capture"
            )
        else:
            answer = provider.cancel_payment(
                payment_id=answer.id, idempotency_key=f"{payment.idempotency_key}-cancel"
            )
    return _payment_apply(payment_id=payment.pk, answer=answer)


def _description(order: Order) -> str:
    return f"BACKGROUND MUSIC order {order.public_id}"


def _payment_prepare(*, order: Order, provider_name: str) -> Payment:
    """The payment to send: the one whose creation got no answer (its key is sent again), the
    pending one already made, or a new row, committed before the provider is called."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status != Order.Status.AWAITING_PAYMENT:
            raise PaymentError(
                _("This order is %(status)s: it takes no payment.")
                % {"status": order.get_status_display().lower()},
                code="order_not_awaiting_payment",
            )
        if PAYMENT_PROVIDER[PaymentMethod(order.payment_method)] != provider_name:
            raise PaymentError(
                _("This order is paid by another method."), code="provider_not_of_order"
            )
        pending = (
            Payment.objects.filter(
                order=order, provider=provider_name, status=Payment.Status.PENDING
            )
            .order_by("-created_at", "-pk")
            .first()
        )
        if pending is not None:
            return pending
        now = clock.now()
        return Payment.objects.create(
            order=order,
            provider=provider_name,
            idempotency_key=_new_key(),
            amount=order.gross_total,
            currency=order.currency,
            created_at=now,
            updated_at=now,
        )


def payment_start(*, order: Order, provider_name: str, return_url: str) -> Payment:
    """Starts (or resumes) paying the order through the provider; the Payment, whose
    confirmation_url is where the buyer goes to pay. Raises ProviderDown when the provider does
    not answer (the order still waits; calling again resumes with the same key)."""
    provider = provider_for(provider_name)
    payment = _payment_prepare(order=order, provider_name=provider_name)
    try:
        if payment.provider_payment_id:
            answer = provider.get_payment(payment.provider_payment_id)
            outcome = _reconcile(provider=provider, payment=payment, answer=answer)
            payment.refresh_from_db()
            if outcome in (Outcome.PENDING, Outcome.UNCHANGED, Outcome.PAID):
                return payment
            # The buyer's earlier attempt ended (declined, expired): a new payment.
            payment = _payment_prepare(order=order, provider_name=provider_name)
        answer = provider.create_payment(
            amount=_cents(payment.amount),
            currency=payment.currency,
            description=_description(order),
            idempotency_key=payment.idempotency_key,
            return_url=return_url,
            metadata={"order": order.public_id, "payment": str(payment.pk)},
        )
        _payment_apply(payment_id=payment.pk, answer=answer)
    except ProviderUnavailable:
        raise _provider_unavailable() from None
    except ProviderRejected as refused:
        _payment_refused(payment_id=payment.pk)
        raise PaymentError(
            _("The payment service refused this payment (%(code)s). Please contact us.")
            % {"code": refused.code},
            code="provider_rejected",
        ) from None
    payment.refresh_from_db()
    return payment


@transaction.atomic
def _payment_refused(*, payment_id: int) -> None:
    """A create the provider refused made nothing there: the row is closed, so the next attempt
    makes a new one with a new key."""
    Payment.objects.filter(
        pk=payment_id, status=Payment.Status.PENDING, provider_payment_id=""
    ).update(status=Payment.Status.CANCELED, updated_at=clock.now())


def payment_sync(*, payment: Payment) -> Outcome:
    """Re-reads the payment from its provider and applies it (capturing or cancelling a payment
    waiting for capture). A payment the provider has not answered for yet is resumed by
    payment_start, not here. Raises ProviderDown when the provider does not answer."""
    if not payment.provider_payment_id or payment.status != Payment.Status.PENDING:
        return Outcome.UNCHANGED
    provider = provider_for(payment.provider)
    try:
        answer = provider.get_payment(payment.provider_payment_id)
        return _reconcile(provider=provider, payment=payment, answer=answer)
    except ProviderUnavailable:
        raise _provider_unavailable() from None


# A card payment is asked about once it is this old: a notification on its way normally arrives
# first, and the buyer has had time to pay on the provider's page.
PENDING_SYNC_AFTER = timedelta(minutes=5)
# At most this many a run, oldest first; the next run takes the rest.
PENDING_SYNC_BATCH = 200


def payments_pending_sync(*, now: datetime) -> dict[str, int]:
    """The recurring re-read of card payments still pending PENDING_SYNC_AFTER after they were
    made (the notification was lost, or the provider never sent it): each goes through
    payment_sync, the path a notification takes, so a payment the buyer completed is captured and
    its order paid. Bank transfers are not asked: staff confirm them. A provider that does not
    answer ends the run; its payments stay pending, unchanged, for the next one. The count of
    each outcome."""
    provider_name = PAYMENT_PROVIDER[PaymentMethod.CARD]
    if provider_name not in settings.PAYMENT_PROVIDERS:
        return {}
    waiting = (
        Payment.objects.filter(
            provider=provider_name,
            status=Payment.Status.PENDING,
            created_at__lte=now - PENDING_SYNC_AFTER,
        )
        .exclude(provider_payment_id="")
        .order_by("created_at", "pk")[:PENDING_SYNC_BATCH]
    )
    outcomes: Counter[str] = Counter()
    for payment in waiting:
        try:
            outcomes[payment_sync(payment=payment)] += 1
        except ProviderDown:
            outcomes[Outcome.PROVIDER_UNAVAILABLE] += 1
            break
        except ProviderRejected as refused:
            rejected = (
                Outcome.NOT_FOUND if refused.code == "not_found" else Outcome.PROVIDER_REJECTED
            )
            outcomes[rejected] += 1
    return {str(outcome): count for outcome, count in outcomes.items()}


def _payment_of_answer(provider_name: str, answer: ProviderPayment) -> Payment | None:
    """The row the provider's payment belongs to: by its id, or, for a payment whose creation
    got no answer, by the row id the service sent in its metadata (and only a row that has no
    provider id yet, of the same amount)."""
    payment = Payment.objects.filter(provider=provider_name, provider_payment_id=answer.id).first()
    if payment is not None:
        return payment
    row_id = answer.metadata.get("payment", "")
    if not row_id.isdigit():
        return None
    return Payment.objects.filter(
        pk=int(row_id),
        provider=provider_name,
        provider_payment_id="",
        amount=_cents(answer.amount),
        currency=answer.currency,
        order__public_id=answer.metadata.get("order", ""),
    ).first()


def _refund_apply(*, refund_id: int, answer: ProviderRefund, actor: Actor | None) -> Outcome:
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("payment").get(pk=refund_id)
        changed = []
        if not refund.provider_refund_id:
            refund.provider_refund_id = answer.id
            changed.append("provider_refund_id")
        elif refund.provider_refund_id != answer.id:
            return Outcome.CONFLICT
        status = Refund.Status(answer.status.value)
        outcome = Outcome.UNCHANGED
        if status != refund.status:
            if refund.status != Refund.Status.PENDING:
                outcome = Outcome.CONFLICT
            else:
                refund.status = status
                changed.append("status")
                outcome = (
                    Outcome.REFUNDED if status == Refund.Status.SUCCEEDED else Outcome.CANCELED
                )
        if changed:
            refund.updated_at = clock.now()
            refund.save(update_fields=[*changed, "updated_at"])
        if outcome == Outcome.REFUNDED:
            _order_refunded_if_whole(payment=refund.payment, actor=actor, reason=refund.reason)
        return outcome


def _refunded_total(payment: Payment, *statuses: str) -> Decimal:
    total = payment.refunds.filter(status__in=statuses).aggregate(total=Sum("amount"))["total"]
    return _cents(total or Decimal(0))


def _order_refunded_if_whole(*, payment: Payment, actor: Actor | None, reason: str) -> None:
    """When every paid amount of the order is refunded, the order is refunded and its
    agreements revoked."""
    order = Order.objects.select_for_update().get(pk=payment.order_id)
    if order.status != Order.Status.PAID:
        return
    paid = order.payments.filter(status=Payment.Status.SUCCEEDED)
    if any(_refunded_total(each, Refund.Status.SUCCEEDED) < _cents(each.amount) for each in paid):
        return
    now = clock.now()
    order.status = Order.Status.REFUNDED
    order.closed_at = now
    order.keep_until = accounting_keep_until(now)
    order.save(update_fields=["status", "closed_at", "keep_until"])
    for agreement in Agreement.objects.filter(order_line__order=order).exclude(
        status=Agreement.Status.REVOKED
    ):
        agreements.agreement_revoke(actor=actor, agreement=agreement, reason=reason, now=now)


@dataclass(frozen=True)
class Received:
    notification: PaymentNotification

    @property
    def retry_later(self) -> bool:
        """The provider could not be asked: answer so that it sends the notification again."""
        return self.notification.outcome == Outcome.PROVIDER_UNAVAILABLE


def notification_receive(*, provider_name: str, body: bytes, headers: dict[str, str]) -> Received:
    """A provider's webhook: only its event and object id are read (parse_notification raises
    NotificationRejected for a body that names none); the object is read again from the
    provider and applied. Every notification is recorded with what it did."""
    provider = provider_for(provider_name)
    notification = provider.parse_notification(body, headers)
    try:
        if notification.about_refund:
            refund_answer = provider.get_refund(notification.object_id)
            refund = Refund.objects.filter(
                payment__provider=provider_name, provider_refund_id=refund_answer.id
            ).first()
            outcome = (
                Outcome.UNKNOWN_REFUND
                if refund is None
                else _refund_apply(refund_id=refund.pk, answer=refund_answer, actor=None)
            )
        else:
            answer = provider.get_payment(notification.object_id)
            payment = _payment_of_answer(provider_name, answer)
            outcome = (
                Outcome.UNKNOWN_PAYMENT
                if payment is None
                else _reconcile(provider=provider, payment=payment, answer=answer)
            )
    except ProviderUnavailable:
        outcome = Outcome.PROVIDER_UNAVAILABLE
    except ProviderRejected as refused:
        outcome = Outcome.NOT_FOUND if refused.code == "not_found" else Outcome.PROVIDER_REJECTED
    return Received(
        notification=PaymentNotification.objects.create(
            provider=provider_name,
            event=notification.event[:64],
            object_id=notification.object_id[:64],
            received_at=clock.now(),
            outcome=outcome,
        )
    )


def _require_order_manager(actor: Actor | None) -> User:
    staff = staff_require(actor=actor, may=staff_may_manage_orders)
    assert isinstance(staff, User)
    return staff


def _staff_text(value: str, *, maximum: int, required_message: str, code: str) -> str:
    text = check_text(value, TextKind.TEXT).strip()
    if not text:
        raise PaymentError(required_message, code=code)
    if len(text) > maximum:
        raise PaymentError(
            _("At most %(count)d characters.") % {"count": maximum}, code=f"{code}_too_long"
        )
    return text


@refusals_audited("licensing.bank_transfer_confirm")
@transaction.atomic
def bank_transfer_confirm(*, actor: Actor, order: Order, reference: str, now: datetime) -> Payment:
    """Staff saw the order's transfer on the bank statement: the transfer is recorded as paid,
    the order paid and its agreements concluded; the audit row keeps the statement's reference."""
    staff = _require_order_manager(actor)
    reference = check_text(reference, TextKind.LINE).strip()
    if not reference:
        raise PaymentError(
            _("Give the reference of the transfer on the bank statement."),
            code="reference_required",
        )
    if len(reference) > REFERENCE_MAX:
        raise PaymentError(
            _("At most %(count)d characters.") % {"count": REFERENCE_MAX},
            code="reference_too_long",
        )
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.payment_method != PaymentMethod.BANK_TRANSFER:
        raise PaymentError(_("This order is not paid by bank transfer."), code="not_a_transfer")
    if order.status != Order.Status.AWAITING_PAYMENT:
        raise PaymentError(
            _("This order is %(status)s: there is no transfer to confirm.")
            % {"status": order.get_status_display().lower()},
            code="order_not_awaiting_payment",
        )
    provider = provider_for("bank_transfer")
    payment = _payment_prepare(order=order, provider_name="bank_transfer")
    if not payment.provider_payment_id:
        answer = provider.create_payment(
            amount=_cents(payment.amount),
            currency=payment.currency,
            description=_description(order),
            idempotency_key=payment.idempotency_key,
            return_url="",
            metadata={"order": order.public_id, "payment": str(payment.pk)},
        )
        _payment_apply(payment_id=payment.pk, answer=answer)
        payment.refresh_from_db()
    captured = provider.capture_payment(
        payment_id=payment.provider_payment_id,
        idempotency_key=f"{payment.idempotency_key}-capture",
    )
    _payment_apply(payment_id=payment.pk, answer=captured)
    Payment.objects.filter(pk=payment.pk).update(confirmed_by_id=staff.pk, updated_at=now)
    audit_record(
        actor=staff,
        action=AuditAction.ORDER_TRANSFER_CONFIRMED,
        target=order,
        before={"status": Order.Status.AWAITING_PAYMENT},
        after={"status": Order.Status.PAID, "payment": payment.pk},
        reason=reference,
    )
    payment.refresh_from_db()
    return payment


def _refund_amount(value: Decimal | str) -> Decimal:
    try:
        amount = Decimal(value)
    except (InvalidOperation, ValueError, TypeError):
        amount = Decimal("NaN")
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(CENT):
        raise PaymentError(
            _("A refund is an amount above zero with at most two decimal places."),
            code="refund_amount_invalid",
        )
    return _cents(amount)


def _refund_prepare(*, staff: User, payment: Payment, amount: Decimal, reason: str) -> Refund:
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.status != Payment.Status.SUCCEEDED:
            raise PaymentError(
                _("Only a succeeded payment can be refunded."), code="payment_not_succeeded"
            )
        unanswered = payment.refunds.filter(
            status=Refund.Status.PENDING, provider_refund_id=""
        ).first()
        if unanswered is not None:
            if unanswered.amount != amount:
                raise PaymentError(
                    _(
                        "A refund of %(amount)s waits for the payment service's answer: retry "
                        "it with the same amount first."
                    )
                    % {"amount": unanswered.amount},
                    code="refund_waiting",
                )
            return unanswered
        left = _cents(payment.amount) - _refunded_total(
            payment, Refund.Status.PENDING, Refund.Status.SUCCEEDED
        )
        if amount > left:
            raise PaymentError(
                _("At most %(amount)s %(currency)s of this payment is left to refund.")
                % {"amount": left, "currency": payment.currency},
                code="refund_too_large",
            )
        now = clock.now()
        refund = Refund.objects.create(
            payment=payment,
            idempotency_key=_new_key(),
            amount=amount,
            reason=reason,
            actor_id=staff.pk,
            created_at=now,
            updated_at=now,
        )
        audit_record(
            actor=staff,
            action=AuditAction.ORDER_REFUND,
            target=payment.order,
            after={"refund": refund.pk, "amount": str(amount), "currency": payment.currency},
            reason=reason,
        )
        return refund


@refusals_audited("licensing.payment_refund")
def payment_refund(*, actor: Actor, payment: Payment, amount: Decimal | str, reason: str) -> Refund:
    """Refunds `amount` of a succeeded payment through its provider. The refund row and its audit
    row are committed before the provider is called (a retry after ProviderDown sends the same
    key). A bank transfer is refunded by staff's own transfer: recording it records it as sent.
    When the whole order is refunded its agreements are revoked."""
    staff = _require_order_manager(actor)
    refund_amount = _refund_amount(amount)
    reason = _staff_text(
        reason,
        maximum=REASON_MAX,
        required_message=_("Give the reason for the refund."),
        code="reason_required",
    )
    refund = _refund_prepare(staff=staff, payment=payment, amount=refund_amount, reason=reason)
    provider = provider_for(payment.provider)
    try:
        answer = provider.create_refund(
            payment_id=payment.provider_payment_id,
            amount=_cents(refund.amount),
            currency=payment.currency,
            idempotency_key=refund.idempotency_key,
            reason=reason[:250],
        )
    except ProviderUnavailable:
        raise _provider_unavailable() from None
    except ProviderRejected as refused:
        with transaction.atomic():
            Refund.objects.filter(pk=refund.pk, status=Refund.Status.PENDING).update(
                status=Refund.Status.CANCELED, updated_at=clock.now()
            )
        raise PaymentError(
            _("The payment service refused the refund (%(code)s).") % {"code": refused.code},
            code="provider_rejected",
        ) from None
    if payment.provider == "bank_transfer":
        # Staff send a transfer's refund themselves; the form records one already sent.
        answer = ProviderRefund(
            id=answer.id,
            payment_id=answer.payment_id,
            status=RefundStatus.SUCCEEDED,
            amount=answer.amount,
            currency=answer.currency,
        )
    _refund_apply(refund_id=refund.pk, answer=answer, actor=staff)
    refund.refresh_from_db()
    return refund


@refusals_audited("licensing.order_cancel")
def order_cancel(*, actor: Actor, order: Order, reason: str = "") -> Order:
    """Cancels an order that waits for payment, by its buyer or by staff (with an audit row and
    a reason). Its pending bank transfer closes; a card payment already held for it is cancelled
    at the provider, now or when the provider next answers about it."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        is_buyer = actor is not None and actor.is_authenticated and order.user_id == actor.pk
        staff = None if is_buyer else _require_order_manager(actor)
        if staff is not None:
            reason = _staff_text(
                reason,
                maximum=REASON_MAX,
                required_message=_("Give the reason for cancelling the order."),
                code="reason_required",
            )
        if order.status != Order.Status.AWAITING_PAYMENT:
            raise PaymentError(
                _("This order is %(status)s: only an order awaiting payment can be cancelled.")
                % {"status": order.get_status_display().lower()},
                code="order_not_awaiting_payment",
            )
        now = clock.now()
        order.status = Order.Status.CANCELLED
        order.closed_at = now
        order.save(update_fields=["status", "closed_at"])
        order.payments.filter(status=Payment.Status.PENDING, provider="bank_transfer").update(
            status=Payment.Status.CANCELED, updated_at=now
        )
        if staff is not None:
            audit_record(
                actor=staff,
                action=AuditAction.ORDER_CANCELLED,
                target=order,
                before={"status": Order.Status.AWAITING_PAYMENT},
                after={"status": Order.Status.CANCELLED},
                reason=reason,
            )
    for payment in order.payments.filter(status=Payment.Status.PENDING).exclude(
        provider_payment_id=""
    ):
        try:
            payment_sync(payment=payment)
        except ProviderDown:
            # The hold lapses at the provider, and its next notification is cancelled then.
            continue
    return order


def orders_cancel_for_erasure(*, subject_id: int) -> int:
    """The account is being erased: its orders still waiting for payment are cancelled as if the
    buyer had cancelled them, so no transfer confirmed or card captured later concludes a licence
    for a person who is gone. Returns how many were cancelled; run again, it finds none."""
    buyer = User.objects.filter(pk=subject_id).first()
    if buyer is None:
        return 0
    waiting = Order.objects.filter(user_id=subject_id, status=Order.Status.AWAITING_PAYMENT)
    cancelled = 0
    for order in waiting:
        order_cancel(actor=buyer, order=order)
        cancelled += 1
    return cancelled
