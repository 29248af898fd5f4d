"""The e-mails licensing sends the buyer: the licences of a paid order, and a subscription
suspended or expired because it was not renewed. The privacy policy names "writing to you about
your licences" as a purpose under the contract; these are those letters, and nothing else is
sent under it.

A notice is queued in the transaction of the change (a Notice row and its job), so a rolled-back
payment sends nothing, and sent by the job (`send_licensing_notice`), which locks the row, sends
to the account's verified primary address in the language of its messages, and marks it sent: a
job killed after sending and before marking sends once more, never zero times. Nothing goes to an
erased account or an address that was never verified.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from backgroundmusic.core import clock
from backgroundmusic.core.http import site_address
from backgroundmusic.core.mail import job_message_id
from backgroundmusic.licensing.models import (
    SUSPENDED_DAYS_BEFORE_EXPIRY,
    Agreement,
    AgreementEvent,
    Notice,
    Order,
)

TEMPLATES = {
    Notice.Kind.ORDER_PAID: "licensing/notices/order_paid",
    Notice.Kind.AGREEMENT_SUSPENDED: "licensing/notices/agreement_suspended",
    Notice.Kind.AGREEMENT_EXPIRED: "licensing/notices/agreement_expired",
}
EVENT_KINDS = {
    Agreement.Status.SUSPENDED: Notice.Kind.AGREEMENT_SUSPENDED,
    Agreement.Status.EXPIRED: Notice.Kind.AGREEMENT_EXPIRED,
}


@dataclass(frozen=True)
class LicenceLine:
    number: str
    plan_title: str
    track_title: str
    page_url: str
    verify_url: str


def _queue(*, kind: str, order_id: int, event: AgreementEvent | None) -> Notice:
    from backgroundmusic.licensing import tasks  # tasks import this module

    notice = Notice.objects.create(kind=kind, order_id=order_id, event=event, queued_at=clock.now())
    tasks.send_licensing_notice.enqueue(notice_id=notice.pk)
    return notice


def notice_queue_order_paid(*, order: Order) -> Notice:
    """In the payment's transaction: the licences of the order, once per order."""
    existing = Notice.objects.filter(
        kind=Notice.Kind.ORDER_PAID, order_id=order.pk, event__isnull=True
    ).first()
    return existing or _queue(kind=Notice.Kind.ORDER_PAID, order_id=order.pk, event=None)


def notice_queue_for_event(*, event: AgreementEvent) -> Notice | None:
    """In the lapse's transaction: a subscription suspended or expired by the recurring job.
    A revocation is staff's act with its own explanation, and a renewal needs no letter."""
    kind = EVENT_KINDS.get(event.status_to)  # type: ignore[call-overload]
    if kind is None or event.actor_id is not None:
        return None
    order_id = event.agreement.order_line.order_id
    return _queue(kind=kind, order_id=order_id, event=event)


def _licence_line(agreement: Agreement, *, language: str) -> LicenceLine:
    edition = agreement.plan_edition
    certificate = getattr(agreement, "certificate", None)
    return LicenceLine(
        number=agreement.number,
        plan_title=edition.title_ru if language == "ru" else edition.title_en,
        track_title=agreement.track.title if agreement.track is not None else "",
        page_url=site_address(reverse("licensing:licence", kwargs={"number": agreement.number})),
        verify_url=(
            site_address(reverse("licensing:verify", kwargs={"public_id": certificate.public_id}))
            if certificate is not None
            else ""
        ),
    )


def _context(notice: Notice, *, language: str) -> dict[str, object]:
    order = notice.order
    if notice.event is None:
        agreements = (
            Agreement.objects.filter(order_line__order=order)
            .select_related("plan_edition", "track", "certificate")
            .order_by("order_line__position")
        )
        return {
            "order_number": order.public_id,
            "order_url": site_address(
                reverse("licensing:order", kwargs={"public_id": order.public_id})
            ),
            "licences": [_licence_line(agreement, language=language) for agreement in agreements],
            "licences_url": site_address(reverse("licensing:licences")),
        }
    event = notice.event
    agreement = event.agreement
    paid_until: datetime | None = event.paid_until
    return {
        "licence": _licence_line(agreement, language=language),
        "paid_until": paid_until,
        "revivable_until": (
            paid_until + timedelta(days=SUSPENDED_DAYS_BEFORE_EXPIRY) if paid_until else None
        ),
        "renew_url": site_address(reverse("licensing:renew", kwargs={"number": agreement.number})),
        "pricing_url": site_address(reverse("licensing:pricing")),
    }


def notice_send(*, notice_id: int) -> str:
    """The job's work: sends the notice unless it was sent; returns what happened."""
    with transaction.atomic():
        notice = (
            Notice.objects.select_for_update(of=("self",))
            .select_related("order__user__profile", "event__agreement__plan_edition")
            .filter(pk=notice_id)
            .first()
        )
        if notice is None:
            return "gone"
        if notice.sent_at is not None:
            return "already sent"
        user = notice.order.user
        address = (
            EmailAddress.objects.filter(user=user, primary=True, verified=True)
            .values_list("email", flat=True)
            .first()
            if user is not None
            else None
        )
        if user is None or not address:
            return "no verified address"
        language = user.profile.language
        with translation.override(language):
            context = _context(notice, language=language)
            template = TEMPLATES[Notice.Kind(notice.kind)]
            subject = render_to_string(f"{template}_subject.txt", context).strip()
            body = render_to_string(f"{template}.txt", context)
        EmailMessage(
            subject=subject,
            body=body,
            to=[address],
            headers=job_message_id("licensing-notice", notice.pk),
        ).send()
        notice.sent_at = clock.now()
        notice.save(update_fields=["sent_at"])
        return "sent"
