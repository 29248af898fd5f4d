"""The breach register's services: opening an incident (rules, clocks, people and categories from
the data map, drafts in both languages), changing drafts, recording notices sent, and who may."""

from datetime import timedelta

import pytest

from backgroundmusic.audit.models import AuditEvent
from backgroundmusic.core import clock
from backgroundmusic.core.errors import ActionRefused
from backgroundmusic.incidents import services
from backgroundmusic.incidents.models import Incident, Notice, NoticeKind
from backgroundmusic.incidents.people import affected_people
from backgroundmusic.incidents.selectors import incident_clocks
from backgroundmusic.incidents.tests.scene import DETECTED, T0, facts, officer, person
from backgroundmusic.mailing.models import Campaign, CampaignMessage
from tests.callers import ALL_CALLERS, expected_by_caller

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(T0):
        yield


def states(incident: Incident, at=None) -> dict[str, tuple[str, str | None, str]]:
    return {
        c.kind.value: (
            c.due_at.isoformat(),
            c.met_at.isoformat() if c.met_at else None,
            c.state.value,
        )
        for c in incident_clocks(incident=incident, now=at or clock.now())
    }


def test_opening_starts_the_clocks_at_detection_and_computes_the_people():
    staff = officer()
    anna, boris = person("anna"), person("boris")
    incident = services.incident_open(actor=staff, facts=facts(eu_residents=True))
    assert incident.affected_subject_ids == sorted([staff.pk, anna.pk, boris.pk])
    assert incident.affected_count == 3
    assert incident.computed_categories == ["user.contact.email"]
    assert incident.unlinked_models == []
    assert states(incident) == {
        "authority_ru": ("2026-03-03T07:00:00+00:00", None, "running"),
        "results_ru": ("2026-03-05T07:00:00+00:00", None, "running"),
        "authority_gdpr": ("2026-03-05T07:00:00+00:00", None, "running"),
    }
    assert states(incident, at=DETECTED + timedelta(hours=24, seconds=1)) == {
        "authority_ru": ("2026-03-03T07:00:00+00:00", None, "overdue"),
        "results_ru": ("2026-03-05T07:00:00+00:00", None, "running"),
        "authority_gdpr": ("2026-03-05T07:00:00+00:00", None, "running"),
    }
    assert states(incident, at=DETECTED + timedelta(hours=72, seconds=1)) == {
        "authority_ru": ("2026-03-03T07:00:00+00:00", None, "overdue"),
        "results_ru": ("2026-03-05T07:00:00+00:00", None, "overdue"),
        "authority_gdpr": ("2026-03-05T07:00:00+00:00", None, "overdue"),
    }
    assert sorted(Notice.objects.filter(incident=incident).values_list("kind", flat=True)) == (
        sorted(NoticeKind.values)
    )
    [row] = AuditEvent.objects.filter(action="incident.opened")
    assert (row.actor_id, row.target_type, row.target_id, row.after) == (
        staff.pk,
        "incidents.Incident",
        str(incident.pk),
        {
            "detected_at": "2026-03-02T07:00:00+00:00",
            "affected_models": ["account.EmailAddress"],
            "affected_categories": [],
            "eu_residents": True,
            "affected_count": 3,
        },
    )


def test_the_gdpr_clock_does_not_apply_without_eu_residents():
    incident = services.incident_open(actor=officer(), facts=facts())
    assert states(incident, at=T0 + timedelta(days=10))["authority_gdpr"] == (
        "2026-03-05T07:00:00+00:00",
        None,
        "not_applicable",
    )


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"detected_at": T0 + timedelta(minutes=1)}, "detected_in_future"),
        (
            {"occurred_from": T0 - timedelta(hours=3), "occurred_until": T0 - timedelta(hours=4)},
            "window_reversed",
        ),
        ({"occurred_from": DETECTED + timedelta(minutes=1)}, "window_after_detection"),
        ({"affected_models": ["catalog.Track"]}, "unknown_model"),
        ({"affected_categories": ["user.biometric"]}, "unknown_category"),
        ({"affected_models": []}, "nothing_affected"),
        ({"summary": "two\nlines"}, "not_one_line"),
        ({"measures": "   "}, "empty"),
        ({"estimated_people": -1}, "negative_estimate"),
    ],
)
def test_bad_facts_are_refused_and_nothing_is_written(changes, code):
    staff = officer()
    with pytest.raises(services.IncidentError) as refused:
        services.incident_open(actor=staff, facts=facts(**changes))
    assert refused.value.code == code
    assert not Incident.objects.exists()
    assert not Notice.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="incident.").exists()


def test_a_category_affects_every_model_holding_it_and_a_model_all_its_categories():
    anna = person("anna")
    found = affected_people(model_labels=["accounts.Profile"], categories=["user.contact.email"])
    assert found.categories == [
        "user.account.settings",
        "user.contact.email",
        "user.contact.phone_number",
        "user.contact.address",
        "user.name",
        "user.government_id",
        "user.workplace",
        "user.privacy_preferences",
    ]
    assert found.subject_ids == [anna.pk]
    # A request form waiting for its code holds an address but names no account, so it cannot
    # be counted by person: it is listed instead.
    assert found.unlinked_models == ["privacy.PendingRequest"]
    found = affected_people(model_labels=["audit.AuditEvent"], categories=[])
    assert (found.subject_ids, found.unlinked_models) == ([], ["audit.AuditEvent"])


def test_the_window_counts_only_rows_whose_clock_falls_in_it():
    early, inside, late = person("early"), person("inside"), person("late")
    campaign = Campaign.objects.create(
        subject_en="News",
        subject_ru="Новости",
        body_en="Hello",
        body_ru="Привет",
        created_at=T0,
        updated_at=T0,
    )
    for who, hours in ((early, 30), (inside, 10), (late, 1)):
        CampaignMessage.objects.create(
            campaign=campaign,
            recipient=who,
            language="en",
            subject="News",
            queued_at=T0 - timedelta(hours=hours),
        )
    incident = services.incident_open(
        actor=officer(),
        facts=facts(
            affected_models=["mailing.CampaignMessage"],
            occurred_from=T0 - timedelta(hours=24),
            occurred_until=T0 - timedelta(hours=2),
        ),
    )
    assert incident.affected_subject_ids == [inside.pk]
    assert incident.computed_categories == ["user.privacy_preferences"]


def test_computing_again_finds_people_added_since_and_keeps_the_drafts():
    staff = officer()
    incident = services.incident_open(actor=staff, facts=facts())
    drafts = list(Notice.objects.values_list("text_en", flat=True).order_by("pk"))
    newcomer = person("newcomer")
    incident = services.incident_people_compute(actor=staff, incident=incident)
    assert incident.affected_subject_ids == sorted([staff.pk, newcomer.pk])
    assert list(Notice.objects.values_list("text_en", flat=True).order_by("pk")) == drafts
    [row] = AuditEvent.objects.filter(action="incident.people_computed")
    assert (row.before, row.after) == ({"affected_count": 1}, {"affected_count": 2})


def test_drafts_are_filled_with_the_facts_in_both_languages(settings):
    settings.PRIVACY_ADDRESS = "privacy@example.org"
    person("anna")
    incident = services.incident_open(
        actor=officer(), facts=facts(estimated_people=40, eu_residents=True)
    )
    notices = {n.kind: n for n in Notice.objects.filter(incident=incident)}
    authority = notices[NoticeKind.AUTHORITY_RU]
    assert authority.subject_ru == (
        f"Уведомление об инциденте с персональными данными (ч. 3.1 ст. 21 152-ФЗ), "
        f"инцидент № {incident.pk}"
    )
    assert authority.subject_en == (
        f"Notification of an incident involving personal data (152-FZ art. 21 part 3.1), "
        f"incident #{incident.pk}"
    )
    assert "Обнаружено: 2026-03-02 10:00 (московское время)." in authority.text_ru
    assert "Категории затронутых персональных данных: Адрес электронной почты." in (
        authority.text_ru
    )
    assert "учётных записей по нашим данным — 2; всего по оценке — 40." in authority.text_ru
    assert "Detected: 2026-03-02 10:00 (Moscow time)." in authority.text_en
    assert "Categories of personal data concerned: E-mail address." in authority.text_en
    assert "People concerned: 2 accounts found in our records; estimated in total: 40." in (
        authority.text_en
    )
    for notice in notices.values():
        for text in (notice.text_en, notice.text_ru):
            assert "privacy@example.org" in text
            assert "A list of e-mail addresses was readable at a public link" in text
            assert "The link was removed and the storage bucket made private." in text
    assert notices[NoticeKind.PEOPLE].subject_ru == (
        "BACKGROUND MUSIC: инцидент с вашими персональными данными"
    )


def test_a_draft_changes_until_it_is_sent():
    staff = officer()
    incident = services.incident_open(actor=staff, facts=facts())
    notice = Notice.objects.get(incident=incident, kind=NoticeKind.AUTHORITY_RU)
    text = services.NoticeText("Subject", "Тема", "The text.", "Текст.")
    services.notice_draft_update(actor=staff, notice=notice, text=text)
    notice.refresh_from_db()
    assert (notice.subject_en, notice.subject_ru, notice.text_en, notice.text_ru) == (
        "Subject",
        "Тема",
        "The text.",
        "Текст.",
    )
    services.notice_draft_update(actor=staff, notice=notice, text=text)
    assert AuditEvent.objects.filter(action="incident.notice_drafted").count() == 1
    services.notice_record_sent(
        actor=staff, notice=notice, sent_at=T0 - timedelta(hours=1), reference="RKN-123"
    )
    with pytest.raises(services.IncidentError) as refused:
        services.notice_draft_update(
            actor=staff, notice=notice, text=services.NoticeText("X", "X", "X", "X")
        )
    assert refused.value.code == "sent"
    notice.refresh_from_db()
    assert notice.text_en == "The text."


def test_recording_a_notice_sent_meets_its_clock():
    staff = officer()
    incident = services.incident_open(actor=staff, facts=facts())
    notice = Notice.objects.get(incident=incident, kind=NoticeKind.AUTHORITY_RU)
    services.notice_record_sent(
        actor=staff, notice=notice, sent_at=T0 - timedelta(hours=1), reference=" RKN-123 "
    )
    assert states(incident, at=T0 + timedelta(days=5))["authority_ru"] == (
        "2026-03-03T07:00:00+00:00",
        "2026-03-02T08:00:00+00:00",
        "met",
    )
    [row] = AuditEvent.objects.filter(action="incident.notice_sent")
    assert row.after == {
        "kind": "authority_ru",
        "sent_at": "2026-03-02T08:00:00+00:00",
        "reference": "RKN-123",
    }


@pytest.mark.parametrize(
    ("kind", "sent_at", "code"),
    [
        (NoticeKind.AUTHORITY_RU, T0 + timedelta(minutes=1), "in_future"),
        (NoticeKind.AUTHORITY_RU, DETECTED - timedelta(minutes=1), "before_detection"),
        (NoticeKind.AUTHORITY_GDPR, T0, "not_applicable"),
        (NoticeKind.PEOPLE, T0, "not_authority"),
    ],
)
def test_a_sending_the_rules_refuse_is_not_recorded(kind, sent_at, code):
    staff = officer()
    incident = services.incident_open(actor=staff, facts=facts())
    notice = Notice.objects.get(incident=incident, kind=kind)
    with pytest.raises(services.IncidentError) as refused:
        services.notice_record_sent(actor=staff, notice=notice, sent_at=sent_at, reference="")
    assert refused.value.code == code
    assert Notice.objects.filter(sent_at__isnull=False).count() == 0
    assert not AuditEvent.objects.filter(action="incident.notice_sent").exists()


def test_a_notice_is_recorded_sent_once():
    staff = officer()
    incident = services.incident_open(actor=staff, facts=facts())
    notice = Notice.objects.get(incident=incident, kind=NoticeKind.RESULTS_RU)
    services.notice_record_sent(actor=staff, notice=notice, sent_at=T0, reference="A")
    with pytest.raises(services.IncidentError) as refused:
        services.notice_record_sent(actor=staff, notice=notice, sent_at=T0, reference="B")
    assert refused.value.code == "sent"
    notice.refresh_from_db()
    assert notice.reference == "A"


@pytest.mark.django_db(databases="__all__")
@pytest.mark.parametrize(
    ("kind", "expected"),
    expected_by_caller(
        {"privacy_officer"}, allowed_outcome="opened", refused_outcome="refused"
    ).items(),
)
def test_who_may_open_an_incident(kind, expected, caller_for):
    actor = caller_for(kind).user
    try:
        services.incident_open(actor=actor, facts=facts())
    except ActionRefused as refusal:
        assert refusal.permission == "staff_may_manage_incidents"
        outcome = "refused"
    else:
        outcome = "opened"
    assert outcome == expected
    assert Incident.objects.count() == (1 if expected == "opened" else 0)
    assert kind in ALL_CALLERS
