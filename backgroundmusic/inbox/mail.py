"""The one letter the inbox ever sends: the link confirming a request, only to the verified
address of the account the request came from."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from backgroundmusic.accounts.models import Profile
from backgroundmusic.core import clock
from backgroundmusic.core.http import site_address
from backgroundmusic.core.mail import job_message_id
from backgroundmusic.inbox.models import InboundMessage, Outcome
from backgroundmusic.inbox.selectors import verified_address_with_digest
from backgroundmusic.inbox.services import confirmation_token


def _language(subject_id: int) -> str:
    """The language of our messages the person chose (their profile), else the site's."""
    language = Profile.objects.filter(user_id=subject_id).values_list("language", flat=True).first()
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def request_confirmation_send(*, message_id: int) -> str:
    """Sends the link, then marks the letter; returns "sent" or why not. A kill between the two
    sends the link again on the next run rather than never."""
    message = InboundMessage.objects.select_related("request").filter(pk=message_id).first()
    if message is None or message.outcome != Outcome.CONFIRMATION_SENT:
        return "not awaiting confirmation"
    if message.confirmation_mailed_at is not None:
        return "already sent"
    if message.subject_id is None or message.request_id is None or message.sender_digest is None:
        return "gone"
    address = verified_address_with_digest(
        subject_id=message.subject_id, digest=message.sender_digest
    )
    if address is None:
        return "address no longer verified"
    link = site_address(
        reverse("inbox:confirm", kwargs={"token": confirmation_token(message=message)})
    )
    with translation.override(_language(message.subject_id)):
        context = {
            "link": link,
            "request_id": message.request_id,
            "received_at": message.received_at,
            "kind": message.request.get_kind_display() if message.request else "",
            "days": settings.INBOX_CONFIRMATION_MAX_AGE.days,
        }
        subject = render_to_string("inbox/confirmation_email_subject.txt", context).strip()
        body = render_to_string("inbox/confirmation_email.txt", context)
    EmailMessage(
        subject=subject,
        body=body,
        to=[address],
        headers=job_message_id("request-confirmation", message.pk),
    ).send()
    with transaction.atomic():
        InboundMessage.objects.filter(pk=message.pk).update(confirmation_mailed_at=clock.now())
    return "sent"
