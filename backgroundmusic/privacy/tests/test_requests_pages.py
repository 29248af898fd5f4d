"""The staff request pages: /staff/requests/, /staff/requests/new/, /staff/requests/<id>/.

Every page and every POST is tried by every caller kind; only the privacy officer (with TOTP)
gets through, and on denial nothing changes."""

import re
from datetime import UTC, date, datetime

import pytest

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.core import clock
from backgroundmusic.privacy import requests as dsr
from backgroundmusic.privacy.kernel.models import StaffAccessLogEntry
from backgroundmusic.privacy.models import (
    ConsentMethod,
    DataSubjectRequest,
    ProcessingRestriction,
    RequestKind,
)
from backgroundmusic.staffroles.roles import StaffRole
from tests.callers import CALLERS, expected_by_caller

pytestmark = pytest.mark.django_db

Status = DataSubjectRequest.Status
Identity = DataSubjectRequest.Identity

EXPECTED = expected_by_caller(
    {"privacy_officer"}, allowed_outcome=200, refused_outcome=403, kinds=CALLERS, anonymous=302
)
CONTACT = "petrov@example.org, Svetlanskaya 12"
RECEIVED = datetime(2025, 12, 29, 7, 0, tzinfo=UTC)  # 10:00 in Moscow
TOTP_ACTIVATE = "/accounts/2fa/totp/activate/"


def moscow_noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


@pytest.fixture
def owner() -> User:
    return UserFactory.create(username="owner", email="owner@example.com")


@pytest.fixture
def officer() -> User:
    return StaffFactory.create(role=StaffRole.PRIVACY_OFFICER, username="the-officer")


@pytest.fixture
def known_callers(officer: User) -> dict[str, User]:
    return {"privacy_officer": officer}


@pytest.fixture
def logged(officer, owner) -> DataSubjectRequest:
    with clock.frozen_at(RECEIVED):
        return dsr.request_log(
            actor=officer,
            kind=RequestKind.RESTRICTION,
            channel=DataSubjectRequest.Channel.EMAIL,
            received_at=RECEIVED,
            subject=owner,
            requester_contact=CONTACT,
        )


def snapshot() -> list[tuple]:
    return list(
        DataSubjectRequest.objects.order_by("pk").values_list(
            "kind",
            "channel",
            "subject_id",
            "identity",
            "extended_due_ru",
            "extension_reason",
            "status",
            "outcome",
            "requester_contact",
        )
    )


def state() -> tuple:
    return (
        snapshot(),
        ProcessingRestriction.objects.count(),
        StaffAccessLogEntry.objects.count(),
    )


def row_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-request-id="(\d+)"', html)]


def assert_denied(response, caller: str, path: str) -> None:
    assert response.status_code == EXPECTED[caller]
    if caller == "anonymous":
        assert response["Location"] == f"/accounts/login/?next={path}"


# Authorization: every page, every POST, every caller


@pytest.mark.parametrize("caller", CALLERS)
def test_inbox_access(caller, caller_for, logged):
    with clock.frozen_at(moscow_noon(date(2026, 1, 12))):
        response = caller_for(caller).client.get("/staff/requests/")
    assert_denied(response, caller, "/staff/requests/")
    html = response.content.decode()
    assert row_ids(html) == ([logged.pk] if EXPECTED[caller] == 200 else [])
    assert CONTACT not in html


@pytest.mark.parametrize("caller", CALLERS)
def test_new_request_page_access(caller, caller_for):
    response = caller_for(caller).client.get("/staff/requests/new/")
    assert_denied(response, caller, "/staff/requests/new/")
    assert ('id="request-log-form"' in response.content.decode()) == (EXPECTED[caller] == 200)


@pytest.mark.parametrize("caller", CALLERS)
def test_logging_a_request_access(caller, caller_for):
    with clock.frozen_at(moscow_noon(date(2026, 1, 12))):
        response = caller_for(caller).client.post(
            "/staff/requests/new/",
            {
                "kind": "erasure",
                "channel": "letter",
                "received_at": "2026-01-12T10:30",
                "requester_contact": CONTACT,
                "subject": "",
            },
        )
    if EXPECTED[caller] == 200:
        created = DataSubjectRequest.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"/staff/requests/{created.pk}/"
        # 10:30 typed in is Moscow time: 07:30 UTC.
        assert created.received_at == datetime(2026, 1, 12, 7, 30, tzinfo=UTC)
        assert (created.kind, created.channel, created.due_ru, created.due_gdpr) == (
            "erasure",
            "letter",
            date(2026, 1, 26),
            date(2026, 2, 12),
        )
    else:
        assert_denied(response, caller, "/staff/requests/new/")
        assert DataSubjectRequest.objects.count() == 0


@pytest.mark.parametrize("caller", CALLERS)
def test_request_page_access(caller, caller_for, logged):
    path = f"/staff/requests/{logged.pk}/"
    response = caller_for(caller).client.get(path)
    assert_denied(response, caller, path)
    html = response.content.decode()
    assert ('id="close-form"' in html) == (EXPECTED[caller] == 200)
    assert CONTACT not in html
    assert "owner@example.com" not in html
    assert StaffAccessLogEntry.objects.count() == 0


POSTS = {
    "link": {"link-subject": "target-user"},
    "verify": {"verify-verified": "yes"},
    "extend": {"extend-ru_working_days": "5", "extend-reason": "We need the archive"},
    "close": {"close-status": "refused", "close-outcome": "Not ours"},
    "contact": {"contact-reason": "Answering the letter"},
}


@pytest.mark.parametrize("op", sorted(POSTS))
@pytest.mark.parametrize("caller", [c for c in CALLERS if EXPECTED[c] != 200])
def test_every_request_operation_is_denied_and_changes_nothing(caller, op, caller_for, logged):
    UserFactory.create(username="target-user")
    before = state()
    path = f"/staff/requests/{logged.pk}/"
    with clock.frozen_at(moscow_noon(date(2026, 1, 12))):
        response = caller_for(caller).client.post(path, {"op": op, **POSTS[op]})
    assert_denied(response, caller, path)
    assert CONTACT not in response.content.decode()
    assert state() == before


@pytest.mark.parametrize("caller", [c for c in CALLERS if EXPECTED[c] != 200])
def test_acting_is_denied_and_changes_nothing(caller, caller_for, officer, logged):
    with clock.frozen_at(RECEIVED):
        dsr.request_verify_identity(actor=officer, request=logged, verified=True)
    before = state()
    path = f"/staff/requests/{logged.pk}/"
    response = caller_for(caller).client.post(path, {"op": "act", "act-action": "restrict"})
    assert_denied(response, caller, path)
    assert state() == before


@pytest.mark.parametrize(
    "path",
    ["/staff/requests/", "/staff/requests/new/", "/staff/requests/{pk}/"],
)
def test_a_privacy_officer_without_totp_is_sent_to_set_it_up(path, client, logged):
    client.force_login(StaffFactory.create(role=StaffRole.PRIVACY_OFFICER, totp=False))
    before = state()
    url = path.format(pk=logged.pk)
    assert client.get(url)["Location"] == TOTP_ACTIVATE
    response = client.post(url, {"op": "verify", "verify-verified": "yes"})
    assert response["Location"] == TOTP_ACTIVATE
    assert state() == before


def test_unknown_request_is_404_for_the_officer(caller_for):
    client = caller_for("privacy_officer").client
    assert client.get("/staff/requests/999999/").status_code == 404
    assert client.post("/staff/requests/999999/", {"op": "verify"}).status_code == 404


def test_the_staff_navigation_links_requests_and_disclosures_for_the_officer_only(caller_for):
    html = caller_for("privacy_officer").client.get("/staff/").content.decode()
    assert '<a href="/staff/requests/">Requests</a>' in html
    assert '<a href="/staff/disclosures/">Disclosures</a>' in html


def test_support_sees_no_links_to_requests_or_disclosures(caller_for):
    html = caller_for("support").client.get("/staff/").content.decode()
    assert "/staff/requests/" not in html
    assert "/staff/disclosures/" not in html


def test_the_inbox_sorts_by_nearest_deadline_and_flags_overdue_in_red(caller_for, officer):
    def logged_on(day: date) -> DataSubjectRequest:
        with clock.frozen_at(moscow_noon(day)):
            return dsr.request_log(
                actor=officer,
                kind=RequestKind.ACCESS,
                channel=DataSubjectRequest.Channel.LETTER,
                received_at=moscow_noon(day),
                requester_contact=CONTACT,
            )

    fresh = logged_on(date(2026, 1, 20))  # due 3 Feb
    overdue = logged_on(date(2025, 12, 29))  # due 22 Jan
    soon = logged_on(date(2026, 1, 9))  # due 23 Jan
    with clock.frozen_at(moscow_noon(date(2026, 1, 23))):
        html = caller_for("privacy_officer").client.get("/staff/requests/").content.decode()
    assert row_ids(html) == [overdue.pk, soon.pk, fresh.pk]
    rows = dict(re.findall(r'<tr data-request-id="(\d+)" class="([^"]*)">', html))
    assert rows == {str(overdue.pk): "overdue", str(soon.pk): "due-soon", str(fresh.pk): ""}
    overdue_row = re.search(rf'<tr data-request-id="{overdue.pk}".*?</tr>', html, re.S)
    assert overdue_row is not None
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", overdue_row.group(0))).strip()
    assert text == (
        f"#{overdue.pk} Overdue Access Letter 29 December 2025, 12:00 UTC+3 "
        "2026-01-22 overdue by 1 working day 2026-01-29 6 days left Not verified yet Open"
    )
    assert 'href="/static/privacy/staff-requests.css"' in html


def test_closed_requests_are_listed_on_demand(caller_for, officer, owner, logged):
    with clock.frozen_at(moscow_noon(date(2026, 1, 12))):
        dsr.request_verify_identity(actor=officer, request=logged, verified=True)
        dsr.request_close(actor=officer, request=logged, outcome="Done", status=Status.DONE)
        client = caller_for("privacy_officer").client
        assert row_ids(client.get("/staff/requests/").content.decode()) == []
        closed = client.get("/staff/requests/", {"closed": "1"}).content.decode()
    assert row_ids(closed) == [logged.pk]
    assert f'<tr data-request-id="{logged.pk}" class="closed">' in closed


def test_the_page_shows_only_id_and_username_of_the_account(caller_for, logged, owner):
    html = (
        caller_for("privacy_officer").client.get(f"/staff/requests/{logged.pk}/").content.decode()
    )
    assert f"#{owner.pk} (owner)" in html
    assert "owner@example.com" not in html
    assert CONTACT not in html


def test_showing_the_contact_writes_the_access_log(caller_for, logged, owner, officer):
    client = caller_for("privacy_officer").client
    response = client.post(
        f"/staff/requests/{logged.pk}/",
        {"op": "contact", "contact-reason": "Sending the answer by post"},
    )
    assert response.status_code == 200
    assert "petrov@example.org, Svetlanskaya 12" in response.content.decode()
    entry = StaffAccessLogEntry.objects.get()
    assert (entry.actor_id, entry.subject_id, entry.fields, entry.reason) == (
        officer.pk,
        owner.pk,
        ["requester_contact"],
        f"Request #{logged.pk}: Sending the answer by post",
    )


def test_no_reason_no_contact_no_log(caller_for, logged):
    response = caller_for("privacy_officer").client.post(
        f"/staff/requests/{logged.pk}/", {"op": "contact", "contact-reason": "why"}
    )
    assert response.status_code == 200
    assert CONTACT not in response.content.decode()
    assert StaffAccessLogEntry.objects.count() == 0


def test_the_officer_links_verifies_acts_and_closes(caller_for, officer):
    person = UserFactory.create(username="petrov")
    with clock.frozen_at(RECEIVED):
        request = dsr.request_log(
            actor=officer,
            kind=RequestKind.RESTRICTION,
            channel=DataSubjectRequest.Channel.LETTER,
            received_at=RECEIVED,
            requester_contact=CONTACT,
        )
    path = f"/staff/requests/{request.pk}/"
    client = caller_for("privacy_officer").client
    with clock.frozen_at(moscow_noon(date(2026, 1, 12))):
        html = client.get(path).content.decode()
        assert "Link the request to an account first." in html
        assert client.post(path, {"op": "link", "link-subject": "PETROV"}).status_code == 302
        assert client.post(path, {"op": "verify", "verify-verified": "yes"}).status_code == 302
        html = client.get(path).content.decode()
        assert 'id="act-form"' in html
        assert client.post(path, {"op": "act", "act-action": "restrict"}).status_code == 302
        response = client.post(
            path,
            {"op": "close", "close-status": "done", "close-outcome": "Processing restricted"},
        )
        assert response.status_code == 302
    request.refresh_from_db()
    assert (request.subject_id, request.identity, request.status, request.outcome) == (
        person.pk,
        Identity.VERIFIED,
        Status.DONE,
        "Processing restricted",
    )
    restriction = ProcessingRestriction.objects.get()
    assert (restriction.subject_id, restriction.started_method) == (person.pk, ConsentMethod.STAFF)


def test_extending_from_the_page(caller_for, logged):
    path = f"/staff/requests/{logged.pk}/"
    client = caller_for("privacy_officer").client
    with clock.frozen_at(moscow_noon(date(2026, 1, 20))):
        response = client.post(
            path,
            {
                "op": "extend",
                "extend-ru_working_days": "5",
                "extend-gdpr_months": "2",
                "extend-reason": "Searching the archive",
            },
        )
        assert response.status_code == 302
        html = client.get(path).content.decode()
    logged.refresh_from_db()
    assert (logged.extended_due_ru, logged.extended_due_gdpr) == (
        date(2026, 1, 29),
        date(2026, 3, 29),
    )
    assert "Extended from 2026-01-22" in html
    assert "Extended from 2026-01-29" in html
    assert "152-FZ to 2026-01-29; GDPR to 2026-03-29." in html
    assert "Reason: Searching the archive" in html
    assert "<strong>Queued</strong>" in html
    assert 'id="extend-form"' not in html


def test_an_empty_extension_reason_keeps_the_page_and_changes_nothing(caller_for, logged):
    path = f"/staff/requests/{logged.pk}/"
    with clock.frozen_at(moscow_noon(date(2026, 1, 20))):
        response = caller_for("privacy_officer").client.post(
            path, {"op": "extend", "extend-reason": " "}
        )
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    logged.refresh_from_db()
    assert logged.extended_due_ru is None


def test_closing_late_without_explanation_keeps_the_input_and_says_why(caller_for, officer, logged):
    with clock.frozen_at(RECEIVED):
        dsr.request_verify_identity(actor=officer, request=logged, verified=True)
    path = f"/staff/requests/{logged.pk}/"
    client = caller_for("privacy_officer").client
    with clock.frozen_at(moscow_noon(date(2026, 1, 23))):
        html = client.get(path).content.decode()
        assert "A deadline has passed: explain the delay." in html
        response = client.post(
            path,
            {"op": "close", "close-status": "done", "close-outcome": "Restricted on 23 Jan"},
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert "This request is past its deadline: explain the delay" in html
        assert "Restricted on 23 Jan</textarea>" in html
        logged.refresh_from_db()
        assert logged.status == Status.OPEN
        response = client.post(
            path,
            {
                "op": "close",
                "close-status": "done",
                "close-outcome": "Restricted on 23 Jan",
                "close-delay_explanation": "The letter reached us late",
            },
        )
    assert response.status_code == 302
    logged.refresh_from_db()
    assert logged.outcome == (
        "Restricted on 23 Jan\n\nAnswered after the deadline because: The letter reached us late"
    )


def test_an_unknown_account_keeps_the_input(caller_for, logged):
    path = f"/staff/requests/{logged.pk}/"
    response = caller_for("privacy_officer").client.post(
        path, {"op": "link", "link-subject": "nobody"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "No account has this user id or username." in html
    assert 'value="nobody"' in html


def test_logging_with_missing_fields_keeps_the_input(caller_for):
    response = caller_for("privacy_officer").client.post(
        "/staff/requests/new/",
        {"kind": "access", "channel": "email", "received_at": "", "requester_contact": CONTACT},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "This field is required." in html
    assert CONTACT in html
    assert DataSubjectRequest.objects.count() == 0


def test_logging_a_request_received_in_the_future_is_refused(caller_for):
    with clock.frozen_at(moscow_noon(date(2026, 1, 12))):
        response = caller_for("privacy_officer").client.post(
            "/staff/requests/new/",
            {
                "kind": "access",
                "channel": "email",
                "received_at": "2026-01-13T10:00",
                "requester_contact": CONTACT,
            },
        )
    assert response.status_code == 200
    assert "The request cannot have been received in the future." in response.content.decode()
    assert DataSubjectRequest.objects.count() == 0


@pytest.mark.parametrize(
    "data",
    [
        {"op": "bogus"},
        {"op": "verify", "verify-verified": "maybe"},
        {"op": "act", "act-action": "erase"},
        {"op": "act", "act-action": "restrict"},
        {"op": "close", "close-status": "open", "close-outcome": "x"},
        {"op": "close", "close-status": "done", "close-outcome": "x" * 5000},
        {"op": "link", "link-subject": "x" * 500},
        {"op": ["verify", "close"]},
        {},
    ],
)
def test_bad_input_is_never_a_500_and_changes_nothing(caller_for, logged, data):
    before = state()
    response = caller_for("privacy_officer").client.post(f"/staff/requests/{logged.pk}/", data)
    assert response.status_code in (200, 302)
    assert state() == before


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "complaint", "channel": "email", "received_at": "x", "requester_contact": ""},
        {"kind": "access", "channel": "email", "received_at": "2026-02-30T10:00"},
        {"kind": "access", "channel": "fax", "received_at": "2026-01-01T10:00"},
        {"kind": "access", "channel": "email", "received_at": "2026-01-01T10:00", "subject": "?"},
        {"requester_contact": "x" * 5000},
    ],
)
def test_bad_input_when_logging_is_never_a_500(caller_for, data):
    response = caller_for("privacy_officer").client.post("/staff/requests/new/", data)
    assert response.status_code == 200
    assert DataSubjectRequest.objects.count() == 0
