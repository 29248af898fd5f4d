"""A campaign as one person receives it: Markdown rendered to sanitized HTML and kept as the
plain text, the footer and headers in their language, the unsubscribe link theirs. No tracking
pixel, no rewritten link: the HTML is the staff's Markdown and our footer, nothing else."""

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from backgroundmusic.core.http import site_address
from backgroundmusic.core.mail import job_message_id
from backgroundmusic.core.markdown import markdown_html
from backgroundmusic.mailing.models import Campaign
from backgroundmusic.privacy.kernel.pseudonyms import delivery_tag

LANGUAGES = {code for code, _name in settings.LANGUAGES}


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str
    unsubscribe_url: str


def checked_language(language: str) -> str:
    return language if language in LANGUAGES else settings.LANGUAGE_CODE


def unsubscribe_url(*, token: str) -> str:
    return site_address(reverse("mailing:unsubscribe", args=[token]))


def verified_address(*, user_id: int) -> str:
    """The person's verified primary address, or "" when they have none."""
    found = (
        EmailAddress.objects.filter(user_id=user_id, primary=True, verified=True)
        .values_list("email", flat=True)
        .first()
    )
    return found or ""


def render_campaign(
    *, campaign: Campaign, language: str, unsubscribe_url: str, test: bool = False
) -> RenderedMessage:
    """Subject, text and HTML of the campaign in `language` with this person's unsubscribe link;
    `test` marks the subject as a test send."""
    with translation.override(language):
        subject = campaign.subject_in(language)
        if test:
            subject = translation.gettext("[Test] %(subject)s") % {"subject": subject}
        source = campaign.body_in(language)
        context = {
            "subject": subject,
            "body_html": markdown_html(source),
            "body_text": source,
            "unsubscribe_url": unsubscribe_url,
            "language": language,
            "service_name": settings.SERVICE_NAME,
        }
        text = render_to_string("mailing/email/campaign.txt", context)
        html = render_to_string("mailing/email/campaign.html", context)
    return RenderedMessage(subject=subject, text=text, html=html, unsubscribe_url=unsubscribe_url)


def unsubscribe_headers(*, url: str) -> dict[str, str]:
    """RFC 2369 List-Unsubscribe (the person's link, and the mailto) and RFC 8058's one-click
    POST."""
    mailto = f"mailto:{settings.UNSUBSCRIBE_ADDRESS}?subject=unsubscribe"
    return {
        "List-Unsubscribe": f"<{url}>, <{mailto}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


# The header carrying the recipient's delivery tag; a delivery report returns it with the
# original headers (inbox/bounces.py).
DELIVERY_TAG_HEADER = "X-BM-Delivery"


def newsletter_email(
    *,
    rendered: RenderedMessage,
    address: str,
    connection: object = None,
    message_id: int | None = None,
) -> EmailMultiAlternatives:
    """The message as the mail backend takes it. From is MARKETING_FROM_EMAIL; from_email, which
    Django's SMTP backend (and anymail, as envelope_sender) uses as the envelope sender, is
    BOUNCE_ADDRESS, so bounces of newsletters come back apart from transactional mail, with the
    recipient's delivery tag among the headers they return. A campaign message (`message_id`,
    its row) has the same Message-ID however often it is sent (core.mail.job_message_id)."""
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=settings.BOUNCE_ADDRESS,
        to=[address],
        headers={
            "From": settings.MARKETING_FROM_EMAIL,
            DELIVERY_TAG_HEADER: delivery_tag(address=address),
            **unsubscribe_headers(url=rendered.unsubscribe_url),
            **(job_message_id("newsletter", message_id) if message_id is not None else {}),
        },
        connection=connection,
    )
    message.attach_alternative(rendered.html, "text/html")
    return message
