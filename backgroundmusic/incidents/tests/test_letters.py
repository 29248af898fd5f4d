"""The letters to the people an incident affects, through a real SMTP server: each in the language
of their profile, to their verified primary address, each sending recorded; and the daily digest
of the clocks, which lists an overdue clock and not a met one."""

from datetime import timedelta

import pytest
from django.core.cache import cache

from backgroundmusic.audit.models import AuditEvent
from backgroundmusic.core import clock
from backgroundmusic.incidents import services
from backgroundmusic.incidents.digest import incident_digest_send
from backgroundmusic.incidents.letters import letters_resume
from backgroundmusic.incidents.models import IncidentLetter, Notice, NoticeKind
from backgroundmusic.incidents.tests.scene import DETECTED, T0, facts, officer, person
from backgroundmusic.mailing.tests.jobs import queued, run_queued
from backgroundmusic.privacy.kernel.pseudonyms import subject_pseudonym
from backgroundmusic.privacy.tests.test_erasure import erase

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.SITE_URL = "http://testserver"
    settings.PRIVACY_ADDRESS = "privacy@example.org"
    settings.DEFAULT_FROM_EMAIL = "BACKGROUND MUSIC <noreply@example.org>"
    settings.INCIDENT_LETTER_BATCH_SIZE = 2
    cache.clear()


def test_each_person_gets_the_letter_in_their_language_at_their_verified_address(smtp_server):
    with clock.frozen_at(T0):
        staff = officer()
        anna = person("anna", email="anna@example.org")
        boris = person("boris", language="ru", email="boris@example.org")
        unverified = person("unverified", email="unverified@example.org", email_verified=False)
        incident = services.incident_open(actor=staff, facts=facts())
        letter = Notice.objects.get(incident=incident, kind=NoticeKind.PEOPLE)
        services.notice_draft_update(
            actor=staff,
            notice=letter,
            text=services.NoticeText("About your data", "О ваших данных", "Hello.", "Привет."),
        )
        assert services.letters_send(actor=staff, incident=incident) == 4
    # Four letters, two per batch.
    assert len(queued("send_incident_letters")) == 2
    with clock.frozen_at(T0 + timedelta(minutes=1)):
        results = run_queued("send_incident_letters", incident_id=incident.pk)
    assert results == [{"sent": 2}, {"sent": 1, "no_address": 1}]
    received = {mail.rcpt_tos[0]: mail for mail in smtp_server.wait_for(3)}
    assert sorted(received) == ["anna@example.org", "boris@example.org", staff.email]
    anna_mail, boris_mail = received["anna@example.org"], received["boris@example.org"]
    assert (anna_mail.subject, anna_mail.text.strip()) == ("About your data", "Hello.")
    assert (boris_mail.subject, boris_mail.text.strip()) == ("О ваших данных", "Привет.")
    assert str(anna_mail.message["Reply-To"]) == "privacy@example.org"
    rows = {
        row.recipient_id: (row.language, row.status, row.sent_at, row.recipient_pseudonym)
        for row in IncidentLetter.objects.all()
    }
    sent_at = T0 + timedelta(minutes=1)
    assert rows == {
        staff.pk: ("en", "sent", sent_at, subject_pseudonym(subject_id=staff.pk)),
        anna.pk: ("en", "sent", sent_at, subject_pseudonym(subject_id=anna.pk)),
        boris.pk: ("ru", "sent", sent_at, subject_pseudonym(subject_id=boris.pk)),
        unverified.pk: ("en", "no_address", None, subject_pseudonym(subject_id=unverified.pk)),
    }
    [row] = AuditEvent.objects.filter(action="incident.letters_queued")
    assert (row.actor_id, row.after) == (staff.pk, {"kind": "people", "letters": 4})
    # A batch run again writes to nobody twice.
    with clock.frozen_at(T0 + timedelta(hours=1)):
        assert letters_resume() == 0
    assert len(smtp_server.messages) == 3


def test_letters_are_sent_once_and_not_to_nobody():
    with clock.frozen_at(T0):
        staff = officer()
        incident = services.incident_open(actor=staff, facts=facts())
        services.letters_send(actor=staff, incident=incident)
        with pytest.raises(services.IncidentError) as refused:
            services.letters_send(actor=staff, incident=incident)
        assert refused.value.code == "sent"
        empty = services.incident_open(
            actor=staff, facts=facts(affected_models=["audit.AuditEvent"])
        )
        with pytest.raises(services.IncidentError) as refused:
            services.letters_send(actor=staff, incident=empty)
        assert refused.value.code == "nobody"
    assert IncidentLetter.objects.count() == 1


def test_a_killed_batch_is_resumed(smtp_server):
    with clock.frozen_at(T0):
        staff = officer()
        person("anna", email="anna@example.org")
        incident = services.incident_open(actor=staff, facts=facts())
        services.letters_send(actor=staff, incident=incident)
    # The worker died before running the job: its row is gone with it.
    queued("send_incident_letters")[0].delete()
    with clock.frozen_at(T0 + timedelta(minutes=5)):
        assert letters_resume() == 0
    with clock.frozen_at(T0 + timedelta(minutes=11)):
        assert letters_resume() == 1
        assert run_queued("send_incident_letters") == [{"sent": 2}]
    assert len(smtp_server.wait_for(2)) == 2


def test_erasure_keeps_the_letter_under_the_pseudonym():
    with clock.frozen_at(T0):
        staff = officer()
        anna = person("anna")
        incident = services.incident_open(actor=staff, facts=facts())
        services.letters_send(actor=staff, incident=incident)
    erase(anna)
    letter = IncidentLetter.objects.get(recipient_pseudonym=subject_pseudonym(subject_id=anna.pk))
    assert letter.recipient_id is None
    incident.refresh_from_db()
    assert anna.pk in incident.affected_subject_ids


def test_the_digest_lists_an_overdue_clock_and_not_a_met_one(smtp_server, settings):
    with clock.frozen_at(T0):
        staff = officer()
        late = services.incident_open(actor=staff, facts=facts(summary="Late one"))
        done = services.incident_open(actor=staff, facts=facts(summary="Done one"))
        for kind in (NoticeKind.AUTHORITY_RU, NoticeKind.RESULTS_RU):
            services.notice_record_sent(
                actor=staff,
                notice=Notice.objects.get(incident=done, kind=kind),
                sent_at=T0,
                reference="RKN",
            )
    with clock.frozen_at(DETECTED + timedelta(hours=25)):
        assert incident_digest_send() == 1
        assert incident_digest_send() == 0
    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == [staff.email]
    assert mail.subject == "Incidents: 1 clocks overdue, 1 running"
    assert mail.text.splitlines() == [
        "Notices still to send, nearest deadline first (Moscow time):",
        "",
        f"#{late.pk} Late one: Roskomnadzor: notification, OVERDUE, due 2026-03-03 10:00. "
        f"http://testserver/staff/incidents/{late.pk}/",
        f"#{late.pk} Late one: Roskomnadzor: investigation, running, due 2026-03-05 10:00. "
        f"http://testserver/staff/incidents/{late.pk}/",
        "",
        "The register: http://testserver/staff/incidents/",
    ]
    assert "Done one" not in mail.text


def test_no_digest_when_every_clock_is_met(smtp_server):
    with clock.frozen_at(T0):
        staff = officer()
        incident = services.incident_open(actor=staff, facts=facts())
        for kind in (NoticeKind.AUTHORITY_RU, NoticeKind.RESULTS_RU):
            services.notice_record_sent(
                actor=staff,
                notice=Notice.objects.get(incident=incident, kind=kind),
                sent_at=T0,
                reference="",
            )
    with clock.frozen_at(T0 + timedelta(days=5)):
        assert incident_digest_send() == 0
    assert smtp_server.messages == []


def test_the_digest_is_in_the_managers_language(smtp_server):
    with clock.frozen_at(T0):
        staff = officer()
        staff.profile.language = "ru"
        staff.profile.save(update_fields=["language"])
        services.incident_open(actor=staff, facts=facts(summary="Утечка"))
    with clock.frozen_at(DETECTED + timedelta(hours=25)):
        assert incident_digest_send() == 1
    [mail] = smtp_server.wait_for(1)
    # A long encoded subject is folded; the header reads back with the fold's space.
    assert mail.subject.strip() == "Инциденты: просрочено сроков — 1, идёт — 1"
