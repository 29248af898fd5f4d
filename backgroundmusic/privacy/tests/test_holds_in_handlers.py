"""Legal holds in the retention handlers whose stores are not rows of a declared model (sessions,
the access log's chain, analytics events, export files, copies of text messages) and in those of
the incidents and of the holds themselves: a held item stays, an unheld one past its period goes,
and the report and the destruction record say how many of each."""

import uuid
from datetime import UTC, date, datetime, timedelta
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.core.files.storage import default_storage
from django.test import Client

from backgroundmusic.accounts.models import Profile, User
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.analytics.models import AnalyticsIdentity, Event, EventKind
from backgroundmusic.core import clock, sms
from backgroundmusic.incidents.models import Incident, IncidentLetter, LetterStatus
from backgroundmusic.privacy import holds
from backgroundmusic.privacy.kernel.access_log import access_log_record, access_log_verify
from backgroundmusic.privacy.kernel.pseudonyms import subject_pseudonym
from backgroundmusic.privacy.kernel.registry import Retentions
from backgroundmusic.privacy.models import (
    DataExport,
    DestructionRecord,
    LegalHold,
    StaffAccessLogCheckpoint,
    StaffAccessLogEntry,
)
from backgroundmusic.privacy.retention import retention_run
from backgroundmusic.privacy.tests.test_export import make_owner, ready_export
from backgroundmusic.staffroles.roles import StaffRole

pytestmark = pytest.mark.django_db(databases="__all__")

T = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)
ENDS = date(2026, 6, 1)


@pytest.fixture
def officer() -> User:
    return StaffFactory.create(role=StaffRole.PRIVACY_OFFICER, username="officer")


def hold_person(officer: User, person: User) -> LegalHold:
    with clock.frozen_at(T):
        return holds.legal_hold_place(
            actor=officer, reason="Claim 2-117/2026", ends_on=ENDS, subject=person
        )


def hold_record(officer: User, label: str, pk: Any) -> LegalHold:
    with clock.frozen_at(T):
        return holds.legal_hold_place(
            actor=officer,
            reason="Preservation order 9",
            ends_on=ENDS,
            target_label=label,
            target_id=str(pk),
        )


def run_at(when: datetime = T) -> Any:
    with clock.frozen_at(when):
        return retention_run()


def records(reason: str) -> list[tuple[dict[str, int], dict[str, int]]]:
    return [
        (record.counts, record.held)
        for record in DestructionRecord.objects.filter(reason=f"retention: {reason}").order_by("pk")
    ]


def signed_in(user: User) -> str:
    client = Client()
    client.force_login(user)
    client.get("/account/profile/")
    key = client.session.session_key
    assert key is not None
    return key


def test_sessions_of_a_held_person_stay(officer):
    held, free = make_owner("held"), make_owner("free")
    held_key, free_key = signed_in(held), signed_in(free)
    UserSession.objects.update(last_seen_at=T - 14 * DAY - SECOND)
    # A session of the held person that allauth no longer maps: found by the id in its data.
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(held.pk)
    store.create()
    Session.objects.update(expire_date=T - SECOND)
    hold_person(officer, held)

    report = run_at()

    assert list(UserSession.objects.values_list("session_key", flat=True)) == [held_key]
    assert sorted(Session.objects.values_list("session_key", flat=True)) == sorted(
        [held_key, store.session_key]
    )
    assert free_key not in Session.objects.values_list("session_key", flat=True)
    assert report.destroyed == {"sessions.Session": 1, "usersessions.UserSession": 1}
    assert report.held == {"sessions.Session": 2, "usersessions.UserSession": 1}
    assert records("sessions") == [
        ({"sessions.Session": 1}, {"sessions.Session": 2}),
        ({"usersessions.UserSession": 1}, {"usersessions.UserSession": 1}),
    ]


def test_a_session_a_hold_names_stays_with_its_user_session(officer):
    person = make_owner("person")
    named, other = signed_in(person), signed_in(person)
    UserSession.objects.update(last_seen_at=T - 14 * DAY - SECOND)
    hold_record(officer, "sessions.Session", named)

    report = run_at()

    assert list(UserSession.objects.values_list("session_key", flat=True)) == [named]
    assert list(Session.objects.values_list("session_key", flat=True)) == [named]
    assert other != named
    assert report.destroyed == {"sessions.Session": 1, "usersessions.UserSession": 1}
    assert report.held == {"usersessions.UserSession": 1}


YEAR = timedelta(days=Retentions.STAFF_AUDIT.days)


def entries_read(actor: User, *reads: tuple[int, timedelta]) -> list[StaffAccessLogEntry]:
    """One entry per (person read about, age at T), appended in this order."""
    entries = []
    for subject_id, age in reads:
        with clock.frozen_at(T - age):
            entries.append(
                access_log_record(actor=actor, subject_id=subject_id, fields=["email"], reason="t")
            )
    return entries


def test_access_log_pruning_stops_at_the_first_held_entry(officer):
    held = UserFactory.create(username="held")
    entries = entries_read(
        officer,
        (900, 2 * YEAR),
        (held.pk, YEAR + DAY),
        (901, YEAR + SECOND),
        (902, YEAR - DAY),
    )
    hold_person(officer, held)

    report = run_at()

    assert list(StaffAccessLogEntry.objects.order_by("pk").values_list("pk", flat=True)) == [
        entry.pk for entry in entries[1:]
    ]
    assert report.destroyed["privacy.StaffAccessLogEntry"] == 1
    assert report.held == {"privacy.StaffAccessLogEntry": 2}
    assert records("staff access log") == [
        ({"privacy.StaffAccessLogEntry": 1}, {"privacy.StaffAccessLogEntry": 2})
    ]
    checkpoint = StaffAccessLogCheckpoint.objects.get()
    assert (checkpoint.last_pruned_id, checkpoint.entries_pruned) == (entries[0].pk, 1)
    verified = access_log_verify()
    assert (verified.intact, verified.entries) == (True, 3)


def test_a_hold_on_the_oldest_entry_or_on_the_reader_keeps_the_whole_chain(officer):
    reader = StaffFactory.create(role=StaffRole.SUPPORT, username="reader")
    entries = entries_read(reader, (900, 2 * YEAR), (901, YEAR + SECOND))
    on_entry = hold_record(officer, "privacy.StaffAccessLogEntry", entries[0].pk)
    report = run_at()
    assert StaffAccessLogEntry.objects.count() == 2
    assert report.held == {"privacy.StaffAccessLogEntry": 2}
    assert "privacy.StaffAccessLogEntry" not in report.destroyed
    assert records("staff access log") == [({}, {"privacy.StaffAccessLogEntry": 2})]
    assert not StaffAccessLogCheckpoint.objects.exists()

    with clock.frozen_at(T):
        holds.legal_hold_lift(actor=officer, hold=on_entry, reason="Order withdrawn")
    hold_person(officer, reader)
    assert run_at(T + DAY).held == {"privacy.StaffAccessLogEntry": 2}
    assert StaffAccessLogEntry.objects.count() == 2


OLD = T - timedelta(days=800)  # past the 25 months of raw events


def event(pseudonym: str, path: str) -> Event:
    return Event.objects.create(
        kind=EventKind.VIEW,
        occurred_at=OLD,
        view_id=uuid.uuid4(),
        visitor_key=pseudonym or "cookieless-key",
        pseudonym=pseudonym,
        path=path,
    )


def test_identified_events_of_a_held_person_stay(officer):
    held, free = UserFactory.create(username="held"), UserFactory.create(username="free")
    AnalyticsIdentity.objects.create(user=held, pseudonym="held-pseudonym", linked_at=OLD)
    AnalyticsIdentity.objects.create(user=free, pseudonym="free-pseudonym", linked_at=OLD)
    kept = event("held-pseudonym", "/catalog/1/")
    event("free-pseudonym", "/catalog/2/")
    event("", "/catalog/3/")
    named = event("", "/catalog/4/")
    hold_person(officer, held)
    hold_record(officer, "analytics.Event", named.pk)

    report = run_at()

    assert sorted(Event.objects.values_list("pk", flat=True)) == sorted([kept.pk, named.pk])
    assert report.destroyed["analytics.Event"] == 2
    assert report.held == {"analytics.Event": 2}
    assert records("analytics events") == [({"analytics.Event": 2}, {"analytics.Event": 2})]


def test_export_files_of_a_held_person_stay(officer):
    held, free = make_owner("held"), make_owner("free")
    with clock.frozen_at(T):
        held_export, _link = ready_export(held)
        free_export, _link = ready_export(free)
    hold_person(officer, held)

    report = run_at(T + 7 * DAY + SECOND)

    assert list(DataExport.objects.values_list("pk", flat=True)) == [held_export.pk]
    assert default_storage.exists(held_export.file_name)
    assert not default_storage.exists(free_export.file_name)
    assert report.destroyed == {"privacy.DataExport": 1, "export files": 1}
    assert report.held == {"privacy.DataExport": 1, "export files": 1}
    assert records("data exports") == [
        ({"export files": 1}, {"export files": 1}),
        ({"privacy.DataExport": 1}, {"privacy.DataExport": 1}),
    ]


@pytest.fixture
def sms_folder(settings, tmp_path) -> Path:
    settings.SMS_BACKEND = "backgroundmusic.core.sms.FileSmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    return tmp_path / "sms"


def with_phone(username: str, phone: str) -> User:
    user = UserFactory.create(username=username)
    profile = Profile.objects.get(user=user)
    profile.phone = phone
    profile.save()
    return user


def test_text_messages_to_or_about_a_held_person_stay(officer, sms_folder):
    held = with_phone("held", "+79161234567")
    with_phone("free", "+74232223344")
    period = timedelta(days=Retentions.TEXT_MESSAGE_COPIES.days)
    with clock.frozen_at(T - period - SECOND):
        sms.send_sms(to="+79161234567", body="Your code is 1234.")
        sms.send_sms(to="+74232223344", body="Please call +79161234567 back.")
        sms.send_sms(to="+74232223344", body="Your code is 5678.")
    hold_person(officer, held)

    report = run_at()

    assert sorted(path.read_text().split("\n\n")[1] for path in sms_folder.glob("*.sms")) == [
        "Please call +79161234567 back.\n",
        "Your code is 1234.\n",
    ]
    assert report.destroyed == {"sms outbox": 1}
    assert report.held == {"sms outbox": 2}
    assert records("sms outbox") == [({"sms outbox": 1}, {"sms outbox": 2})]


def incident(letter_to: User) -> Incident:
    detected = T - timedelta(days=6 * 365)
    found = Incident.objects.create(
        summary="Old breach",
        description="d",
        consequences="c",
        measures="m",
        detected_at=detected,
        opened_at=detected,
    )
    IncidentLetter.objects.create(
        incident=found,
        recipient=letter_to,
        recipient_pseudonym=subject_pseudonym(subject_id=letter_to.pk),
        language="en",
        status=LetterStatus.QUEUED,
        queued_at=detected,
    )
    return found


def test_an_incident_with_a_letter_to_a_held_person_stays_whole(officer):
    held, free = UserFactory.create(username="held"), UserFactory.create(username="free")
    kept = incident(held)
    incident(free)
    hold_person(officer, held)

    report = run_at()

    assert list(Incident.objects.values_list("pk", flat=True)) == [kept.pk]
    assert list(IncidentLetter.objects.values_list("recipient_id", flat=True)) == [held.pk]
    assert report.destroyed["incidents.Incident"] == 1
    assert report.destroyed["incidents.IncidentLetter"] == 1
    assert report.held == {"incidents.Incident": 1}


def test_the_record_of_an_ended_hold_stays_while_a_hold_names_it(officer):
    ended = [
        LegalHold.objects.create(
            subject_id=officer.pk,
            reason=f"Old claim {n}",
            placed_by_id=officer.pk,
            placed_at=T - 5 * 365 * DAY,
            ends_on=date(2021, 1, 1),
        )
        for n in range(2)
    ]
    keeper = hold_record(officer, "privacy.LegalHold", ended[0].pk)

    report = run_at()

    assert sorted(LegalHold.objects.values_list("pk", flat=True)) == sorted(
        [ended[0].pk, keeper.pk]
    )
    assert report.destroyed["privacy.LegalHold"] == 1
    assert report.held == {"privacy.LegalHold": 1}
    assert records("legal holds") == [({"privacy.LegalHold": 1}, {"privacy.LegalHold": 1})]
