"""Issue 12 in a real browser: a newsletter editor signs in with their authenticator, writes a
campaign in English and Russian, previews it, sends a test to themselves (received by aiosmtpd)
and schedules it; the worker's step runs here; a person who consents receives it and, signed out,
unsubscribes from the link in that message; the privacy center then shows the consent withdrawn.
And the editor's pages fit a phone in both languages."""

import re
from datetime import timedelta

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.test import Client
from playwright.sync_api import BrowserContext, Page, expect

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import StaffFactory
from backgroundmusic.core import clock
from backgroundmusic.mailing import services
from backgroundmusic.mailing.models import Campaign, CampaignMessage, CampaignStatus, MessageStatus
from backgroundmusic.mailing.tasks import start_due_campaigns
from backgroundmusic.mailing.tests.jobs import run_queued
from backgroundmusic.mailing.tests.scene import TEXT
from backgroundmusic.privacy.calendar import CONTROLLER_TIME_ZONE
from backgroundmusic.privacy.consents import consent_give
from backgroundmusic.privacy.models import (
    ConsentAction,
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
)
from backgroundmusic.staffroles.roles import StaffRole
from tests.browser.conftest import ContextFactory
from tests.browser.licensing_scene import PASSWORD, at, messages, person, sign_in
from tests.smtp_server import SmtpServer

pytestmark = [
    pytest.mark.browser,
    # Every page sends analytics beacons, which reach the analytics database.
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

PHONE = {"width": 390, "height": 844}
NEWSLETTER = "Newsletters and promotional e-mail"
BODY_EN = "# New music\n\nTen **calm** tracks for [your videos](https://example.org/new)."
BODY_RU = (
    "# Новая музыка\n\nДесять **спокойных** треков для [ваших видео](https://example.org/new)."
)


def newsletter_editor(username: str) -> tuple[User, str]:
    """A newsletter editor and the secret of their authenticator app."""
    editor = StaffFactory.create(
        username=username,
        email=f"{username}@example.com",
        role=StaffRole.NEWSLETTER_EDITOR,
        totp=False,
        password=PASSWORD,
    )
    secret = generate_totp_secret()
    TOTP.activate(editor, secret)
    return editor, secret


def reader(username: str) -> User:
    """A person who signed up and gave their newsletter consent."""
    user = person(username)
    consent_give(subject=user, purpose=ConsentPurpose.NEWSLETTER, method=ConsentMethod.FORM)
    return user


def test_an_editor_writes_previews_tests_and_schedules_and_the_reader_unsubscribes_signed_out(
    live_server, new_context: ContextFactory, smtp_server: SmtpServer, settings
) -> None:
    base = live_server.url
    settings.SITE_URL = base
    editor, secret = newsletter_editor("nina_editor")
    anna = reader("anna_reader")

    page = new_context().new_page()
    sign_in(page, base, editor.username, totp_secret=secret)
    page.get_by_role("link", name="Staff", exact=True).click()
    at(page, base, "/staff/mailing/")
    staff_nav = page.get_by_role("navigation", name="Staff")
    expect(staff_nav.get_by_role("link")).to_have_text(["Newsletters"])
    expect(page.get_by_text("No campaign yet.")).to_be_visible()

    # Written in both languages; the Russian text left out first is asked for, the rest kept.
    page.get_by_role("link", name="Write a new campaign").click()
    at(page, base, "/staff/mailing/new/")
    expect(page.locator("#id_subject_en_helptext")).to_have_text(
        "One line, at most 200 characters."
    )
    page.get_by_label("Subject in English").fill("Spring releases")
    page.get_by_label("Text in English").fill(BODY_EN)
    page.get_by_label("Subject in Russian").fill("Весенние релизы")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.locator("#id_body_ru_error")).to_have_text("This field is required.")
    expect(page.get_by_label("Text in English")).to_have_value(BODY_EN)
    expect(page.get_by_label("Subject in Russian")).to_have_value("Весенние релизы")
    page.get_by_label("Text in Russian").fill(BODY_RU)
    page.get_by_role("button", name="Save the draft").click()
    assert messages(page) == [
        "The draft is saved. Preview it, send yourself a test, then schedule."
    ]
    campaign = Campaign.objects.get()
    at(page, base, f"/staff/mailing/{campaign.pk}/")
    expect(page.locator("#campaign-status")).to_have_text("Draft")
    expect(page.locator("#campaign-audience-now")).to_have_text("1 person")

    # The preview: each language as HTML inside the page, and as plain text, with the footer.
    refused_by_csp: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused_by_csp.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    page.get_by_role("link", name="Preview both languages").click()
    at(page, base, f"/staff/mailing/{campaign.pk}/preview/")
    english = page.locator("#preview-en")
    expect(english.locator(".newsletter-message h1")).to_have_text("New music")
    expect(english.locator(".newsletter-message strong")).to_have_text("calm")
    expect(english.locator(".newsletter-message")).to_contain_text(
        "You receive this because you subscribed to the BACKGROUND MUSIC newsletter."
    )
    expect(english.locator(".newsletter-message a").last).to_have_text("Unsubscribe")
    expect(english.locator(".newsletter-text")).to_contain_text("Unsubscribe: ")
    russian = page.locator("#preview-ru")
    expect(russian.locator(".newsletter-message h1")).to_have_text("Новая музыка")
    expect(russian.locator(".newsletter-text")).to_contain_text("Отписаться: ")
    # The message's inline styles are the stylesheet's here: the page's CSP refuses none.
    font_size = english.locator(".newsletter-message hr + p").evaluate(
        "element => getComputedStyle(element).fontSize"
    )
    assert font_size == "13px"
    assert refused_by_csp == []
    page.get_by_role("link", name="Back to the campaign").click()

    # A test to the editor's own address.
    page.get_by_label("Language of the test").select_option(label="English")
    page.get_by_role("button", name="Send the test").click()
    assert messages(page) == ["The test in English is on its way to nina_editor@example.com."]
    assert run_queued("send_campaign_test") == [True]
    [test] = smtp_server.wait_for(1)
    assert (test.rcpt_tos, test.subject) == (["nina_editor@example.com"], "[Test] Spring releases")

    # A past time is refused and stays in the field; then the campaign is sent at once.
    past = (clock.now() - timedelta(hours=1)).astimezone(CONTROLLER_TIME_ZONE)
    typed = past.strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("Send at (Moscow time)").fill(typed)
    page.get_by_role("button", name="Schedule the campaign").click()
    expect(page.locator("#id_schedule-send_at_error")).to_have_text(
        "Choose a time in the future, or send now."
    )
    expect(page.get_by_label("Send at (Moscow time)")).to_have_value(typed)
    assert Campaign.objects.get().status == CampaignStatus.DRAFT
    page.get_by_label("Send at (Moscow time)").fill("")
    page.get_by_role("button", name="Schedule the campaign").click()
    assert messages(page) == ["The campaign is scheduled."]
    expect(page.locator("#campaign-status")).to_have_text("Scheduled")
    expect(page.get_by_role("button", name="Schedule the campaign")).to_have_count(0)

    # The worker's turn: the every-minute job starts the campaign, a batch sends it.
    assert start_due_campaigns.call() == {"started": 1, "queued": 1, "resumed": 0}
    assert run_queued("send_campaign_batch") == [{"sent": 1, "failed": 0, "cancelled": 0}]
    received = smtp_server.wait_for(2)[1]
    assert (received.rcpt_tos, received.subject) == (["anna_reader@example.com"], "Spring releases")
    assert CampaignMessage.objects.get().status == MessageStatus.SENT
    page.goto(f"{base}/staff/mailing/")
    row = page.locator(f"tr[data-campaign='{campaign.pk}']")
    expect(row.locator("td")).to_have_text(
        [
            "Spring releases",
            "Sent",
            re.compile(r"\d{1,2} \w+ \d{4}, \d\d:\d\d UTC\+3"),
            "1",
            "1",
            "0",
            "0",
        ]
    )

    # Signed out, the link in the message's footer unsubscribes in one click.
    [link] = [url for url in received.links if "/mail/unsubscribe/" in url]
    assert str(received.message["List-Unsubscribe"]).strip().startswith(f"<{link}>")
    visitor = new_context().new_page()
    visitor.goto(link)
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Unsubscribe from the newsletter")
    visitor.get_by_role("button", name="Unsubscribe").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text("You are unsubscribed")
    assert list(
        ConsentRecord.objects.filter(subject_id=anna.pk)
        .order_by("at", "pk")
        .values_list("action", "method")
    ) == [
        (ConsentAction.GIVEN, ConsentMethod.FORM),
        (ConsentAction.WITHDRAWN, ConsentMethod.ONE_CLICK),
    ]

    # The reader signs in: the privacy center shows the consent withdrawn, and how.
    sign_in(visitor, base, anna.username)
    visitor.goto(f"{base}/privacy/")
    row = visitor.locator("#consent-newsletter")
    expect(row.locator("td").nth(1)).to_have_text("Withdrawn")
    expect(row.locator("td").nth(3)).to_have_text("One-click unsubscribe from a message")
    expect(row.get_by_role("button")).to_have_text(f"Give — {NEWSLETTER}")


def signed_in(context: BrowserContext, base: str, editor: User) -> None:
    client = Client()
    client.force_login(editor)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
    )


def too_wide(page: Page, url: str, language: str) -> list[str]:
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    assert page.locator("html").get_attribute("lang") == language
    width = page.evaluate("document.documentElement.scrollWidth")
    return [] if width <= PHONE["width"] else [f"{url}: {width}px wide"]


@pytest.mark.parametrize(("locale", "language"), [("en-US", "en"), ("ru-RU", "ru")])
def test_the_newsletter_pages_fit_a_phone(live_server, new_context, locale, language):
    base = live_server.url
    editor = StaffFactory.create(role=StaffRole.NEWSLETTER_EDITOR)
    reader("anna_reader")
    long_word = "Долгожданные-весенние-релизы-" * 4
    started = services.campaign_schedule(
        actor=editor,
        campaign=services.campaign_create(
            actor=editor,
            text=services.CampaignText(long_word, long_word, TEXT.body_en, TEXT.body_ru),
        ),
    )
    services.campaign_start(campaign_id=started.pk)
    draft = services.campaign_create(actor=editor, text=TEXT)
    context = new_context(locale=locale)
    signed_in(context, base, editor)
    page = context.new_page()
    page.set_viewport_size(PHONE)
    paths = [
        "/staff/mailing/",
        "/staff/mailing/new/",
        f"/staff/mailing/{draft.pk}/",
        f"/staff/mailing/{draft.pk}/edit/",
        f"/staff/mailing/{draft.pk}/preview/",
        f"/staff/mailing/{started.pk}/",
    ]
    assert [issue for path in paths for issue in too_wide(page, base + path, language)] == []
