"""The newsletter editor's pages under /staff/mailing/: who may open them and post to them (every
caller kind; a refusal is a staff.denied row and changes nothing), the list with its counts, the
form that keeps what was typed, the preview in both languages, the test send, scheduling in
Moscow time and cancelling."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from backgroundmusic.accounts.models import User
from backgroundmusic.audit.models import AuditEvent
from backgroundmusic.core import clock
from backgroundmusic.mailing import services
from backgroundmusic.mailing.models import Campaign, CampaignMessage, CampaignStatus, MessageStatus
from backgroundmusic.mailing.tests.jobs import queued, run_queued
from backgroundmusic.mailing.tests.scene import T0, TEXT, audience, editor
from tests.callers import CALLERS, STAFF_WITHOUT_TWO_FACTOR, expected_by_caller

pytestmark = pytest.mark.django_db

TOTP_ACTIVATE = "/accounts/2fa/totp/activate/"
KINDS = [*CALLERS, STAFF_WITHOUT_TWO_FACTOR]
PAGE_STATUS = expected_by_caller(
    {"newsletter_editor"},
    allowed_outcome=200,
    refused_outcome=403,
    kinds=KINDS,
    anonymous=302,
    staff_without_two_factor=302,
)
FORM = {
    "subject_en": "Spring releases",
    "body_en": "# New music\n\nTen **calm** tracks.",
    "subject_ru": "Весенние релизы",
    "body_ru": "# Новая музыка\n\nДесять **спокойных** треков.",
}


@pytest.fixture
def the_editor() -> User:
    return editor("the-editor")


@pytest.fixture
def known_callers(the_editor: User) -> dict[str, User]:
    return {"newsletter_editor": the_editor}


@pytest.fixture
def draft(the_editor: User) -> Campaign:
    with clock.frozen_at(T0):
        return services.campaign_create(actor=the_editor, text=TEXT)


def pages(campaign: Campaign) -> dict[str, str]:
    base = f"/staff/mailing/{campaign.pk}"
    return {
        "list": "/staff/mailing/",
        "new": "/staff/mailing/new/",
        "campaign": f"{base}/",
        "edit": f"{base}/edit/",
        "preview": f"{base}/preview/",
    }


def posts(campaign: Campaign) -> dict[str, dict[str, str]]:
    base = f"/staff/mailing/{campaign.pk}"
    return {
        "/staff/mailing/new/": FORM,
        f"{base}/edit/": {**FORM, "subject_en": "Summer releases"},
        f"{base}/test/": {"test-language": "ru"},
        f"{base}/schedule/": {"schedule-send_at": ""},
        f"{base}/cancel/": {},
    }


def domain_state() -> tuple[Any, ...]:
    """What a campaign action could change; the staff.denied rows a refusal writes aside."""
    return (
        list(Campaign.objects.order_by("pk").values_list("pk", "status", "subject_en")),
        CampaignMessage.objects.count(),
        len(queued("send_campaign_test")),
        list(AuditEvent.objects.exclude(action="staff.denied").values_list("pk", flat=True)),
    )


def denied_rows() -> list[tuple[Any, ...]]:
    return [
        (event.actor_id, event.after["path"], event.after["method"])
        for event in AuditEvent.objects.filter(action="staff.denied").order_by("pk")
    ]


def assert_refused(kind: str, user: User | None, path: str, method: str, response: Any) -> None:
    if kind == "anonymous":
        assert response["Location"] == f"/accounts/login/?next={path}"
        assert denied_rows() == []
    elif kind == STAFF_WITHOUT_TWO_FACTOR:
        assert response["Location"] == TOTP_ACTIVATE
        assert denied_rows() == []
    else:
        assert user is not None
        assert denied_rows() == [(user.pk, path, method)]


@pytest.mark.parametrize("page", ["list", "new", "campaign", "edit", "preview"])
@pytest.mark.parametrize("kind", KINDS)
def test_only_newsletter_editors_open_the_pages_and_every_refusal_is_recorded(
    kind, page, caller_for, draft
):
    path = pages(draft)[page]
    caller = caller_for(kind)
    response = caller.client.get(path)
    assert response.status_code == PAGE_STATUS[kind]
    if PAGE_STATUS[kind] != 200:
        assert_refused(kind, caller.user, path, "GET", response)
    else:
        assert denied_rows() == []


POST_STATUS = expected_by_caller(
    {"newsletter_editor"},
    allowed_outcome=302,
    refused_outcome=403,
    kinds=KINDS,
    anonymous=302,
    staff_without_two_factor=302,
)


@pytest.mark.parametrize("action", ["new", "edit", "test", "schedule", "cancel"])
@pytest.mark.parametrize("kind", KINDS)
def test_only_newsletter_editors_act_and_a_refusal_changes_nothing(kind, action, caller_for, draft):
    path, data = next(
        (path, data) for path, data in posts(draft).items() if path.endswith(f"/{action}/")
    )
    caller = caller_for(kind)
    before = domain_state()
    with clock.frozen_at(T0 + timedelta(minutes=5)):
        response = caller.client.post(path, data)
    assert response.status_code == POST_STATUS[kind]
    if kind != "newsletter_editor":
        assert domain_state() == before
        assert_refused(kind, caller.user, path, "POST", response)
        return
    assert domain_state() != before
    assert denied_rows() == []
    newest = Campaign.objects.order_by("-pk").first()
    assert newest is not None
    assert response["Location"] == f"/staff/mailing/{newest.pk}/"


def campaign_rows(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<tr data-campaign="(\d+)" data-status="([a-z]+)">', html)


def cells(html: str, campaign: Campaign) -> list[str]:
    row = re.search(rf'<tr data-campaign="{campaign.pk}"[^>]*>(.*?)</tr>', html, re.DOTALL)
    assert row is not None
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.DOTALL)
    ]


def test_the_list_shows_each_campaign_newest_first_with_its_counts(client, the_editor):
    scene = audience()
    with clock.frozen_at(T0 + timedelta(hours=3)):
        sent = services.campaign_schedule(
            actor=the_editor, campaign=services.campaign_create(actor=the_editor, text=TEXT)
        )
        assert services.campaign_start(campaign_id=sent.pk) == 2
        CampaignMessage.objects.filter(recipient=scene.anna).update(
            status=MessageStatus.SENT, sent_at=clock.now()
        )
        CampaignMessage.objects.filter(recipient=scene.boris).update(status=MessageStatus.FAILED)
        later = services.campaign_create(
            actor=the_editor, text=services.CampaignText("Autumn", "Осень", "Text", "Текст")
        )
        services.campaign_schedule(
            actor=the_editor, campaign=later, send_at=datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
        )
    client.force_login(the_editor)
    html = client.get("/staff/mailing/").content.decode()
    assert campaign_rows(html) == [(str(later.pk), "scheduled"), (str(sent.pk), "sending")]
    # 09:30 UTC is 12:30 in Moscow; a campaign not started has no audience yet.
    assert cells(html, later) == [
        "Autumn",
        "Scheduled",
        "10 March 2026, 12:30 UTC+3",
        "—",
        "0",
        "0",
        "0",
    ]
    assert cells(html, sent) == [
        "Spring releases",
        "Sending",
        "2 March 2026, 15:00 UTC+3",
        "2",
        "1",
        "1",
        "0",
    ]
    assert 'href="/staff/mailing/new/"' in html


def test_the_list_is_paginated(client, the_editor):
    with clock.frozen_at(T0):
        made = [services.campaign_create(actor=the_editor, text=TEXT) for _ in range(51)]
    client.force_login(the_editor)
    first = client.get("/staff/mailing/").content.decode()
    second = client.get("/staff/mailing/?page=2").content.decode()
    assert [int(pk) for pk, _status in campaign_rows(first)] == [c.pk for c in made[:0:-1]]
    assert [int(pk) for pk, _status in campaign_rows(second)] == [made[0].pk]
    assert "Page 1 of 2" in first


def test_the_form_shows_its_limits_and_keeps_what_was_typed_on_error(client, the_editor):
    client.force_login(the_editor)
    page = client.get("/staff/mailing/new/").content.decode()
    assert page.count('maxlength="200"') == 2
    assert page.count('maxlength="100000"') == 2
    assert page.count("One line, at most 200 characters.") == 2
    assert page.count("At most 100,000 characters.") == 2
    typed = {**FORM, "subject_en": "S" * 201, "body_ru": ""}
    response = client.post("/staff/mailing/new/", typed)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Ensure this value has at most 200 characters (it has 201)." in html
    assert "This field is required." in html
    assert 'value="' + "S" * 201 + '"' in html
    assert "Ten **calm** tracks." in html
    assert Campaign.objects.count() == 0
    two_lines = {**FORM, "subject_ru": "Весенние\nрелизы"}
    response = client.post("/staff/mailing/new/", two_lines)
    assert response.status_code == 400
    assert "The text holds a line break or tab (U+000A); this value is one line." in (
        response.content.decode()
    )
    # A text of spaces only is the service's refusal, shown above the form with the spaces kept.
    response = client.post("/staff/mailing/new/", {**FORM, "body_ru": "   "})
    assert response.status_code == 400
    html = response.content.decode()
    assert (
        '<ul class="errorlist" role="alert"><li>A campaign needs a subject and a text in both '
        "English and Russian.</li></ul>"
    ) in html
    assert 'id="id_body_ru">\n   </textarea>' in html
    assert Campaign.objects.count() == 0


def test_a_draft_is_written_changed_and_its_markdown_kept_as_typed(client, the_editor):
    client.force_login(the_editor)
    body = "Line one\n\n    indented code\n"
    response = client.post("/staff/mailing/new/", {**FORM, "body_en": body})
    campaign = Campaign.objects.get()
    assert response["Location"] == f"/staff/mailing/{campaign.pk}/"
    assert (campaign.status, campaign.body_en, campaign.created_by_id) == (
        CampaignStatus.DRAFT,
        body.strip(),
        the_editor.pk,
    )
    edit = client.get(f"/staff/mailing/{campaign.pk}/edit/").content.decode()
    assert "Весенние релизы" in edit
    client.post(f"/staff/mailing/{campaign.pk}/edit/", {**FORM, "subject_en": "Summer"})
    campaign.refresh_from_db()
    assert campaign.subject_en == "Summer"
    services.campaign_schedule(actor=the_editor, campaign=campaign)
    response = client.get(f"/staff/mailing/{campaign.pk}/edit/")
    assert response["Location"] == f"/staff/mailing/{campaign.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "Only a draft can be changed." in page
    assert f'href="/staff/mailing/{campaign.pk}/edit/"' not in page


def test_the_preview_shows_both_languages_sanitized_with_the_footer_and_plain_text(
    client, the_editor, settings
):
    settings.SITE_URL = "https://backgroundmusic.example"
    with clock.frozen_at(T0):
        campaign = services.campaign_create(
            actor=the_editor,
            text=services.CampaignText(
                subject_en="Spring <releases>",
                subject_ru="Весенние релизы",
                body_en='Hello <script>alert(1)</script><img src="https://tracker.example/p.gif">'
                "\n\n[Listen](https://example.org/new)",
                body_ru="# Новая музыка\n\nПривет.",
            ),
        )
    client.force_login(the_editor)
    html = client.get(f"/staff/mailing/{campaign.pk}/preview/").content.decode()
    english = html[html.index('id="preview-en"') : html.index('id="preview-ru"')]
    russian = html[html.index('id="preview-ru"') :]
    link = "https://backgroundmusic.example/mail/unsubscribe/" + "0" * 64 + "/"
    assert "Spring &lt;releases&gt;" in english
    message = english[english.index('class="newsletter-message"') : english.index("<h3>Plain")]
    assert "<script" not in message and "<img" not in message and "tracker" not in message
    assert "style=" not in message and "<body" not in message
    assert '<a href="https://example.org/new" rel="noopener noreferrer">Listen</a>' in message
    assert "You receive this because you subscribed to the BACKGROUND MUSIC newsletter." in message
    assert f'<a href="{link}" rel="noopener noreferrer">Unsubscribe</a>' in message
    text = english[english.index('class="newsletter-text"') :]
    assert "[Listen](https://example.org/new)" in text
    assert f"Unsubscribe: {link}" in text
    assert "<h1>Новая музыка</h1>" in russian
    assert "Вы получили это письмо, потому что подписались на рассылку BACKGROUND MUSIC." in russian
    assert f"Отписаться: {link}" in russian


def test_a_test_goes_to_the_editors_own_address_and_the_page_says_where(
    client, the_editor, draft, smtp_server
):
    client.force_login(the_editor)
    response = client.post(f"/staff/mailing/{draft.pk}/test/", {"test-language": "ru"}, follow=True)
    assert "The test in Russian is on its way to the-editor@example.com." in (
        response.content.decode()
    )
    assert run_queued("send_campaign_test") == [True]
    [mail] = smtp_server.wait_for(1)
    assert (mail.rcpt_tos, mail.subject) == (["the-editor@example.com"], "[Тест] Весенние релизы")
    the_editor.emailaddress_set.update(verified=False)  # type: ignore[attr-defined]
    response = client.post(f"/staff/mailing/{draft.pk}/test/", {"test-language": "en"}, follow=True)
    assert "Your account has no verified e-mail address to send the test to." in (
        response.content.decode()
    )
    assert queued("send_campaign_test") == []


def test_scheduling_takes_moscow_time_and_refuses_a_past_time_keeping_it(client, the_editor, draft):
    client.force_login(the_editor)
    path = f"/staff/mailing/{draft.pk}/schedule/"
    with clock.frozen_at(T0):  # 12:00 in Moscow
        response = client.post(path, {"schedule-send_at": "2026-03-02T11:30"})
        assert response.status_code == 400
        html = response.content.decode()
        assert "Choose a time in the future, or send now." in html
        assert 'value="2026-03-02T11:30"' in html
        assert Campaign.objects.get().status == CampaignStatus.DRAFT
        response = client.post(path, {"schedule-send_at": "2026-03-03T10:15"})
    assert response["Location"] == f"/staff/mailing/{draft.pk}/"
    campaign = Campaign.objects.get()
    assert (campaign.status, campaign.scheduled_for) == (
        CampaignStatus.SCHEDULED,
        datetime(2026, 3, 3, 7, 15, tzinfo=UTC),
    )
    page = client.get(response["Location"]).content.decode()
    assert "The campaign is scheduled." in page
    assert '<time datetime="2026-03-03T10:15:00+03:00">3 March 2026, 10:15 UTC+3</time>' in page
    assert 'id="schedule-form"' not in page
    # Scheduled again from a page left open: refused, and the page says why.
    response = client.post(path, {"schedule-send_at": ""}, follow=True)
    assert "Only a draft can be scheduled." in response.content.decode()
    assert Campaign.objects.get().scheduled_for == datetime(2026, 3, 3, 7, 15, tzinfo=UTC)


def test_an_empty_time_sends_now_and_cancelling_stops_a_scheduled_campaign(
    client, the_editor, draft
):
    client.force_login(the_editor)
    with clock.frozen_at(T0):
        client.post(f"/staff/mailing/{draft.pk}/schedule/", {"schedule-send_at": ""})
    draft.refresh_from_db()
    assert (draft.status, draft.scheduled_for) == (CampaignStatus.SCHEDULED, T0)
    response = client.post(f"/staff/mailing/{draft.pk}/cancel/", follow=True)
    html = response.content.decode()
    assert "The campaign is cancelled. Messages already sent stay sent." in html
    assert 'id="cancel-form"' not in html and 'id="test-form"' not in html
    draft.refresh_from_db()
    assert draft.status == CampaignStatus.CANCELLED
    response = client.post(f"/staff/mailing/{draft.pk}/cancel/", follow=True)
    assert "A campaign that is sent or cancelled cannot be cancelled." in response.content.decode()


def test_the_campaign_page_says_how_many_people_it_would_reach_now(client, the_editor, draft):
    audience()
    client.force_login(the_editor)
    html = client.get(f"/staff/mailing/{draft.pk}/").content.decode()
    assert '<dd id="campaign-audience-now">2 people</dd>' in html


def test_the_pages_in_russian(client: Client, the_editor, draft):
    client.force_login(the_editor)
    headers = {"accept-language": "ru"}
    listing = client.get("/staff/mailing/", headers=headers).content.decode()
    assert "<h1>Рассылки</h1>" in listing
    assert "Черновик" in listing
    form = client.get("/staff/mailing/new/", headers=headers).content.decode()
    assert "В одну строку, не больше 200 символов." in form
    page = client.get(f"/staff/mailing/{draft.pk}/", headers=headers).content.decode()
    assert "Отправить тестовое письмо себе" in page
    assert "Время отправки (по Москве)" in page
    preview = client.get(f"/staff/mailing/{draft.pk}/preview/", headers=headers).content.decode()
    assert "На английском" in preview and "На русском" in preview
