"""The newsletter editor's reads: campaigns with their message counts, the audience a campaign
would reach now, and a campaign's preview as the staff page shows it. Each asks
staff_may_manage_campaigns of the actor, as the services do."""

import re
from dataclasses import dataclass

import nh3
from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils.safestring import SafeString, mark_safe

from backgroundmusic.audit.refusals import refusals_audited
from backgroundmusic.core.markdown import ALLOWED_ATTRIBUTES, ALLOWED_TAGS
from backgroundmusic.mailing import services
from backgroundmusic.mailing.models import Campaign, MessageStatus
from backgroundmusic.mailing.selectors import newsletter_recipients
from backgroundmusic.staffroles.selectors import Actor, staff_may_manage_campaigns, staff_require

BODY = re.compile(r"<body[^>]*>(?P<inner>.*)</body>", re.DOTALL | re.IGNORECASE)
# The message's markup without its <html>/<head> and without style attributes, which the site's
# CSP (style-src 'self') would refuse: mailing/staff.css gives the preview the same look.
PREVIEW_TAGS = {*ALLOWED_TAGS, "div"}
# Without the headings' ids, which could repeat the page's own (two languages, or "content").
PREVIEW_ATTRIBUTES = {
    tag: names - {"id"} for tag, names in ALLOWED_ATTRIBUTES.items() if names - {"id"}
}


@dataclass(frozen=True)
class CampaignPreview:
    language: str
    subject: str
    html: SafeString
    text: str


def _with_counts() -> QuerySet[Campaign]:
    return Campaign.objects.order_by("-pk").annotate(
        audience_at_send=Count("messages"),
        sent_count=Count("messages", filter=Q(messages__status=MessageStatus.SENT)),
        failed_count=Count("messages", filter=Q(messages__status=MessageStatus.FAILED)),
        cancelled_count=Count("messages", filter=Q(messages__status=MessageStatus.CANCELLED)),
        queued_count=Count("messages", filter=Q(messages__status=MessageStatus.QUEUED)),
    )


@refusals_audited("mailing.campaigns_for_staff")
def campaigns_for_staff(*, actor: Actor | None) -> QuerySet[Campaign]:
    """Every campaign, newest first, each with how many messages it queued when it started (its
    audience at send) and how many of them are sent, failed or cancelled (one query)."""
    staff_require(actor=actor, may=staff_may_manage_campaigns)
    return _with_counts()


@refusals_audited("mailing.campaign_for_staff")
def campaign_for_staff(*, actor: Actor | None, campaign_id: int) -> Campaign | None:
    """One campaign with the counts of campaigns_for_staff, or None."""
    staff_require(actor=actor, may=staff_may_manage_campaigns)
    return _with_counts().filter(pk=campaign_id).first()


@refusals_audited("mailing.audience_count")
def audience_count(*, actor: Actor | None) -> int:
    """How many people a campaign starting now would be sent to (the audience selector)."""
    staff_require(actor=actor, may=staff_may_manage_campaigns)
    return len(newsletter_recipients())


def in_page_html(message_html: str) -> SafeString:
    """The body of a rendered message, to show inside a site page: sanitized again by nh3 with
    the Markdown renderer's tags (and the footer's div), so no style attribute, id or document
    element reaches the page."""
    found = BODY.search(message_html)
    inner = found.group("inner") if found else message_html
    cleaned = nh3.clean(
        inner,
        tags=PREVIEW_TAGS,
        attributes=PREVIEW_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
    return mark_safe(cleaned)  # noqa: S308 - sanitized by nh3 just above


@refusals_audited("mailing.campaign_previews")
def campaign_previews(*, actor: Actor | None, campaign: Campaign) -> list[CampaignPreview]:
    """The campaign in English and in Russian as a recipient gets it: subject, the HTML for the
    page and the plain text, with the footer and an unsubscribe link that unsubscribes nobody."""
    staff_require(actor=actor, may=staff_may_manage_campaigns)
    previews = []
    for language, _name in settings.LANGUAGES:
        rendered = services.campaign_preview(actor=actor, campaign=campaign, language=language)
        previews.append(
            CampaignPreview(
                language=language,
                subject=rendered.subject,
                html=in_page_html(rendered.html),
                text=rendered.text,
            )
        )
    return previews
