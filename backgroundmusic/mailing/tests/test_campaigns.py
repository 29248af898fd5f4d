"""The newsletter editor's services: their rules, their audit rows, who may call them."""

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress

from backgroundmusic.audit.models import AuditEvent
from backgroundmusic.core import clock
from backgroundmusic.core.errors import ActionRefused
from backgroundmusic.mailing import services
from backgroundmusic.mailing.models import Campaign, CampaignMessage, CampaignStatus, MessageStatus
from backgroundmusic.mailing.tests.jobs import queued
from backgroundmusic.mailing.tests.scene import T0, TEXT, audience, editor
from tests.callers import expected_by_caller

pytestmark = pytest.mark.django_db


def trail(campaign: Campaign) -> list[tuple]:
    return [
        (event.action, event.before, event.after)
        for event in AuditEvent.objects.filter(
            target_type="mailing.Campaign", target_id=str(campaign.pk)
        ).order_by("pk")
    ]


def test_a_campaign_from_draft_to_scheduled_to_cancelled_leaves_its_trail():
    staff = editor()
    with clock.frozen_at(T0):
        campaign = services.campaign_create(actor=staff, text=TEXT)
        services.campaign_update(actor=staff, campaign=campaign, text=TEXT)  # nothing changes
        changed = services.CampaignText(
            subject_en="  Summer releases ",
            subject_ru="Летние релизы",
            body_en="Hi.",
            body_ru="Привет.",
        )
        services.campaign_update(actor=staff, campaign=campaign, text=changed)
        services.campaign_schedule(actor=staff, campaign=campaign, send_at=T0 + timedelta(days=1))
        services.campaign_cancel(actor=staff, campaign=campaign)
    campaign.refresh_from_db()
    assert (
        campaign.status,
        campaign.subject_en,
        campaign.scheduled_for,
        campaign.created_by_id,
        campaign.finished_at,
    ) == (CampaignStatus.CANCELLED, "Summer releases", T0 + timedelta(days=1), staff.pk, T0)
    assert trail(campaign) == [
        ("campaign.created", {}, {"status": "draft"}),
        ("campaign.updated", {}, {"fields": ["subject_en", "subject_ru", "body_en", "body_ru"]}),
        (
            "campaign.scheduled",
            {"status": "draft"},
            {"status": "scheduled", "scheduled_for": "2026-03-03T09:00:00+00:00"},
        ),
        (
            "campaign.cancelled",
            {"status": "scheduled"},
            {"status": "cancelled", "messages_cancelled": 0},
        ),
    ]
    campaign_events = AuditEvent.objects.filter(target_type="mailing.Campaign")
    assert {event.actor_id for event in campaign_events} == {staff.pk}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (services.CampaignText("", "Тема", "Text", "Текст"), "text_missing"),
        (services.CampaignText("News", "Тема", "Text", "   "), "text_missing"),
        (services.CampaignText("N" * 201, "Тема", "Text", "Текст"), "subject_too_long"),
        (services.CampaignText("News", "Тема\nещё", "Text", "Текст"), "subject_line"),
        (services.CampaignText("News", "Тема", "T" * 100_001, "Текст"), "body_too_long"),
    ],
)
def test_a_campaign_needs_both_languages_within_limits(text, code):
    with pytest.raises(services.CampaignError) as refused:
        services.campaign_create(actor=editor(), text=text)
    assert refused.value.code == code
    assert Campaign.objects.count() == 0


def test_only_drafts_change_and_schedule_and_finished_campaigns_stay_finished():
    staff = editor()
    with clock.frozen_at(T0):
        campaign = services.campaign_create(actor=staff, text=TEXT)
        with pytest.raises(services.CampaignError) as past:
            services.campaign_schedule(
                actor=staff, campaign=campaign, send_at=T0 - timedelta(minutes=2)
            )
        assert past.value.code == "in_the_past"
        # "Now" typed on a page a few seconds ago is now.
        services.campaign_schedule(
            actor=staff, campaign=campaign, send_at=T0 - timedelta(seconds=20)
        )
        assert Campaign.objects.get().scheduled_for == T0
        for call in (
            lambda: services.campaign_update(actor=staff, campaign=campaign, text=TEXT),
            lambda: services.campaign_schedule(actor=staff, campaign=campaign),
        ):
            with pytest.raises(services.CampaignError) as refused:
                call()
            assert refused.value.code == "not_draft"
        services.campaign_cancel(actor=staff, campaign=campaign)
        with pytest.raises(services.CampaignError) as finished:
            services.campaign_cancel(actor=staff, campaign=campaign)
        assert finished.value.code == "finished"


def test_cancelling_a_campaign_being_sent_cancels_what_is_still_queued():
    scene = audience()
    staff = editor()
    with clock.frozen_at(T0):
        campaign = services.campaign_schedule(
            actor=staff, campaign=services.campaign_create(actor=staff, text=TEXT)
        )
    assert services.campaign_start(campaign_id=campaign.pk) == 2
    CampaignMessage.objects.filter(recipient=scene.anna).update(
        status=MessageStatus.SENT, sent_at=clock.now()
    )
    services.campaign_cancel(actor=staff, campaign=campaign)
    assert dict(CampaignMessage.objects.values_list("recipient__username", "status")) == {
        "anna": MessageStatus.SENT,
        "boris": MessageStatus.CANCELLED,
    }
    assert trail(campaign)[-1] == (
        "campaign.cancelled",
        {"status": "sending"},
        {"status": "cancelled", "messages_cancelled": 1},
    )


def test_a_campaign_with_nobody_to_send_to_is_sent_at_once():
    staff = editor()
    with clock.frozen_at(T0):
        campaign = services.campaign_schedule(
            actor=staff, campaign=services.campaign_create(actor=staff, text=TEXT)
        )
    assert services.campaigns_start_due() == {"started": 1, "queued": 0, "resumed": 0}
    campaign.refresh_from_db()
    assert (campaign.status, queued("send_campaign_batch")) == (CampaignStatus.SENT, [])
    # Started once: a second run finds nothing due.
    assert services.campaigns_start_due() == {"started": 0, "queued": 0, "resumed": 0}


def test_a_campaign_scheduled_later_waits_for_its_time():
    staff = editor()
    later = clock.now() + timedelta(hours=2)
    campaign = services.campaign_schedule(
        actor=staff, campaign=services.campaign_create(actor=staff, text=TEXT), send_at=later
    )
    assert services.campaigns_start_due()["started"] == 0
    with clock.frozen_at(later):
        assert services.campaigns_start_due()["started"] == 1
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT


def test_the_preview_is_the_message_in_the_language_asked_with_a_link_that_unsubscribes_nobody(
    settings,
):
    settings.SITE_URL = "https://backgroundmusic.example"
    staff = editor()
    campaign = services.campaign_create(actor=staff, text=TEXT)
    preview = services.campaign_preview(actor=staff, campaign=campaign, language="ru")
    assert preview.subject == "Весенние релизы"
    assert preview.unsubscribe_url == (
        "https://backgroundmusic.example/mail/unsubscribe/" + "0" * 64 + "/"
    )
    assert '<h1 id="новая-музыка">Новая музыка</h1>' in preview.html
    assert "Отписаться: " + preview.unsubscribe_url in preview.text
    assert services.unsubscribe_owner(token="0" * 64) is None
    english = services.campaign_preview(actor=staff, campaign=campaign, language="xx")
    assert english.subject == "Spring releases"


def test_a_test_send_needs_a_verified_address_of_ones_own():
    staff = editor()
    EmailAddress.objects.filter(user=staff).update(verified=False)
    campaign = services.campaign_create(actor=staff, text=TEXT)
    with pytest.raises(services.CampaignError) as refused:
        services.campaign_test_send(actor=staff, campaign=campaign, language="en")
    assert refused.value.code == "no_address"
    assert queued("send_campaign_test") == []


SERVICES = {
    "create": lambda actor, campaign: services.campaign_create(actor=actor, text=TEXT),
    "update": lambda actor, campaign: services.campaign_update(
        actor=actor, campaign=campaign, text=services.CampaignText("A", "Б", "C", "Д")
    ),
    "schedule": lambda actor, campaign: services.campaign_schedule(actor=actor, campaign=campaign),
    "cancel": lambda actor, campaign: services.campaign_cancel(actor=actor, campaign=campaign),
    "test_send": lambda actor, campaign: services.campaign_test_send(
        actor=actor, campaign=campaign, language="en"
    ),
    "preview": lambda actor, campaign: services.campaign_preview(
        actor=actor, campaign=campaign, language="en"
    ),
}


@pytest.mark.parametrize("service", sorted(SERVICES))
@pytest.mark.parametrize(
    ("kind", "expected"),
    expected_by_caller(
        {"newsletter_editor"}, allowed_outcome="done", refused_outcome="refused"
    ).items(),
)
def test_only_a_newsletter_editor_with_two_factor_manages_campaigns(
    service, kind, expected, caller_for
):
    campaign = services.campaign_create(actor=editor("scene-editor"), text=TEXT)
    actor = caller_for(kind).user
    try:
        SERVICES[service](actor, campaign)
        outcome = "done"
    except ActionRefused as refused:
        assert refused.permission == "staff_may_manage_campaigns"
        outcome = "refused"
    assert outcome == expected
