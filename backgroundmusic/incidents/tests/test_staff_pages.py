"""The breach register's pages under /staff/incidents/: who may open them and post to them (every
caller kind; a refusal changes nothing), the form that keeps what was typed, the clocks shown,
recording a notice sent, and the pages in Russian."""

from datetime import timedelta

import pytest

from backgroundmusic.accounts.models import User
from backgroundmusic.core import clock
from backgroundmusic.incidents import services
from backgroundmusic.incidents.models import Incident, IncidentLetter, Notice, NoticeKind
from backgroundmusic.incidents.tests.scene import T0, facts, officer
from tests.callers import CALLERS, STAFF_WITHOUT_TWO_FACTOR, expected_by_caller

pytestmark = pytest.mark.django_db

KINDS = [*CALLERS, STAFF_WITHOUT_TWO_FACTOR]
PAGE_STATUS = expected_by_caller(
    {"privacy_officer"},
    allowed_outcome=200,
    refused_outcome=403,
    kinds=KINDS,
    anonymous=302,
    staff_without_two_factor=302,
)
FORM = {
    "summary": "Backup left readable",
    "description": "A database backup was readable by a contractor's account.",
    "detected_at": "2026-03-02T10:30",
    "occurred_from": "",
    "occurred_until": "",
    "affected_models": ["account.EmailAddress"],
    "estimated_people": "",
    "consequences": "Phishing.",
    "measures": "Access revoked.",
}


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(T0):
        yield


@pytest.fixture
def the_officer() -> User:
    return officer()


@pytest.fixture
def known_callers(the_officer: User) -> dict[str, User]:
    return {"privacy_officer": the_officer}


@pytest.fixture
def incident(the_officer: User) -> Incident:
    return services.incident_open(actor=the_officer, facts=facts())


@pytest.mark.parametrize("kind", KINDS)
def test_who_may_open_the_pages(kind, incident, caller_for):
    client = caller_for(kind).client
    expected = PAGE_STATUS[kind]
    for path in (
        "/staff/incidents/",
        "/staff/incidents/new/",
        f"/staff/incidents/{incident.pk}/",
        f"/staff/incidents/{incident.pk}/notices/authority_ru/",
    ):
        assert client.get(path).status_code == expected, path


@pytest.mark.parametrize("kind", KINDS)
def test_who_may_post(kind, incident, caller_for):
    client = caller_for(kind).client
    allowed = PAGE_STATUS[kind] == 200
    before = list(Notice.objects.values_list("pk", "sent_at", "text_en").order_by("pk"))
    posts = {
        "/staff/incidents/new/": FORM,
        f"/staff/incidents/{incident.pk}/people/": {},
        f"/staff/incidents/{incident.pk}/notices/authority_ru/sent/": {
            "authority_ru-sent_at": "2026-03-02T11:00",
            "authority_ru-reference": "RKN-1",
        },
        f"/staff/incidents/{incident.pk}/letters/": {},
    }
    for path, data in posts.items():
        response = client.post(path, data)
        assert response.status_code == (302 if allowed else PAGE_STATUS[kind]), path
    if allowed:
        assert Incident.objects.count() == 2
        # The officer and the owner, whom computing the people again found.
        assert IncidentLetter.objects.count() == 2
        assert Notice.objects.get(incident=incident, kind="authority_ru").reference == "RKN-1"
    else:
        assert Incident.objects.count() == 1
        assert not IncidentLetter.objects.exists()
        assert list(Notice.objects.values_list("pk", "sent_at", "text_en").order_by("pk")) == (
            before
        )


def test_opening_an_incident_from_the_form(client, the_officer):
    client.force_login(the_officer)
    response = client.post("/staff/incidents/new/", FORM)
    incident = Incident.objects.get()
    assert response["Location"] == f"/staff/incidents/{incident.pk}/"
    assert incident.detected_at == T0 - timedelta(minutes=90)
    assert incident.affected_subject_ids == [the_officer.pk]
    page = client.get(response["Location"]).content.decode()
    assert '<tr data-clock="authority_ru" data-state="running">' in page
    assert '<time datetime="2026-03-03T10:30:00+03:00">3 March 2026, 10:30 UTC+3</time>' in page
    assert '<tr data-clock="authority_gdpr" data-state="not_applicable">' in page
    assert '<dd id="incident-people">1 account in our records</dd>' in page


def test_a_detection_in_the_future_keeps_what_was_typed(client, the_officer):
    client.force_login(the_officer)
    response = client.post("/staff/incidents/new/", {**FORM, "detected_at": "2026-03-02T12:05"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "The time of detection cannot be in the future." in page
    assert 'value="Backup left readable"' in page
    assert "A database backup was readable by a contractor&#x27;s account." in page
    assert not Incident.objects.exists()


def test_naming_nothing_affected_is_a_form_error(client, the_officer):
    client.force_login(the_officer)
    response = client.post("/staff/incidents/new/", {**FORM, "affected_models": []})
    assert response.status_code == 400
    assert "Name the affected data, or at least one category." in response.content.decode()


def test_recording_a_sending_in_the_future_is_a_form_error(client, the_officer, incident):
    client.force_login(the_officer)
    response = client.post(
        f"/staff/incidents/{incident.pk}/notices/authority_ru/sent/",
        {"authority_ru-sent_at": "2026-03-02T12:30", "authority_ru-reference": "RKN-9"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "The time of sending cannot be in the future." in page
    assert 'value="RKN-9"' in page
    assert Notice.objects.get(incident=incident, kind="authority_ru").sent_at is None


def test_changing_a_draft(client, the_officer, incident):
    client.force_login(the_officer)
    path = f"/staff/incidents/{incident.pk}/notices/people/"
    data = {"subject_en": "S", "text_en": "T", "subject_ru": "С", "text_ru": "Т"}
    response = client.post(path, data)
    assert response["Location"] == f"/staff/incidents/{incident.pk}/#notice-people"
    notice = Notice.objects.get(incident=incident, kind=NoticeKind.PEOPLE)
    assert (notice.subject_en, notice.text_ru) == ("S", "Т")
    assert client.get(f"/staff/incidents/{incident.pk}/notices/nonsense/").status_code == 404


def test_the_pages_in_russian(client, the_officer, incident):
    client.force_login(the_officer)
    client.cookies["django_language"] = "ru"
    listing = client.get("/staff/incidents/").content.decode()
    assert "Роскомнадзор: уведомление" in listing
    assert "Идёт" in listing
    page = client.get(f"/staff/incidents/{incident.pk}/").content.decode()
    assert "Записать отправку" in page
    assert "Не требуется: жители ЕС не затронуты." in page
