"""The privacy center's "Your requests" (requests.requests_of_subject, privacy/center/
_requests.html): every request a person filed, linked to the account or made on the request form
from one of their verified addresses; the deadlines while open, the answer once closed."""

from datetime import UTC, date, datetime

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.core import clock
from backgroundmusic.privacy import requests as dsr
from backgroundmusic.privacy.models import DataSubjectRequest, RequestKind
from backgroundmusic.staffroles.roles import StaffRole

pytestmark = pytest.mark.django_db

Channel = DataSubjectRequest.Channel
Status = DataSubjectRequest.Status
# 10:00 in Moscow on Monday 12 January 2026: 152-FZ due 2026-01-26, GDPR due 2026-02-12.
RECEIVED = datetime(2026, 1, 12, 7, 0, tzinfo=UTC)
TODAY = datetime(2026, 1, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def officer() -> User:
    return StaffFactory.create(role=StaffRole.PRIVACY_OFFICER)


@pytest.fixture
def anna() -> User:
    anna = UserFactory.create(username="anna", email="anna@example.org")
    EmailAddress.objects.create(user=anna, email="Anna.Work@example.org", verified=True)
    EmailAddress.objects.create(user=anna, email="anna.old@example.org", verified=False)
    return anna


def by_form(address: str, *, received_at: datetime = RECEIVED) -> DataSubjectRequest:
    with clock.frozen_at(received_at):
        return dsr.request_log_by_form(
            kind=RequestKind.ACCESS,
            address=address,
            details="",
            language="en",
            received_at=received_at,
        )


def by_letter(officer: User, subject: User | None, received_at: datetime) -> DataSubjectRequest:
    with clock.frozen_at(received_at):
        return dsr.request_log(
            actor=officer,
            kind=RequestKind.ERASURE,
            channel=Channel.LETTER,
            received_at=received_at,
            subject=subject,
            requester_contact="Svetlanskaya 12",
        )


def test_the_person_s_requests_linked_or_from_their_verified_addresses(officer, anna):
    linked = by_letter(officer, anna, datetime(2026, 1, 5, 7, 0, tzinfo=UTC))
    from_primary = by_form("ANNA@example.org")  # linked by the form itself
    from_secondary = by_form(
        "anna.work@EXAMPLE.org", received_at=datetime(2026, 1, 14, 7, 0, tzinfo=UTC)
    )
    by_form("anna.old@example.org")  # an unverified address of hers: not shown
    by_form("someone@example.org")
    by_letter(officer, UserFactory.create(), RECEIVED)
    by_letter(officer, None, RECEIVED)

    with clock.frozen_at(TODAY):
        entries = dsr.requests_of_subject(user=anna)
    assert [entry.request.pk for entry in entries] == [
        from_secondary.pk,
        from_primary.pk,
        linked.pk,
    ]
    assert from_primary.subject_id == anna.pk and from_secondary.subject_id is None
    first = entries[1]
    assert (first.received_on, first.closed_on, first.answer) == (date(2026, 1, 12), None, None)
    assert first.deadlines is not None
    assert (first.deadlines.ru.due, first.deadlines.gdpr.due) == (
        date(2026, 1, 26),
        date(2026, 2, 12),
    )


def test_the_section_shows_deadlines_while_open_and_the_answer_once_closed(officer, anna):
    extended = by_form("anna@example.org")
    closed = by_letter(officer, anna, RECEIVED)
    with clock.frozen_at(TODAY):
        dsr.request_extend(
            actor=officer, request=extended, reason="Your data is in three systems.", gdpr_months=1
        )
        dsr.request_close(
            actor=officer, request=closed, status=Status.REFUSED, outcome="We keep the invoices."
        )
    client = Client()
    client.force_login(anna)
    with clock.frozen_at(TODAY):
        page = client.get("/privacy/").content.decode()
        russian = client.get("/privacy/", headers={"Accept-Language": "ru"}).content.decode()
    assert '<a href="#requests">Your requests</a>' in page
    section = page[page.index('<section id="requests">') :]
    section = section[: section.index("</section>")]
    open_item = section[section.index(f'data-request-id="{extended.pk}"') :]
    open_item = open_item[: open_item.index("</li>")]
    assert f"<h3>Request #{extended.pk}: Access</h3>" in open_item
    assert "<dt>State</dt><dd>Open</dd>" in open_item
    assert '<time datetime="2026-01-12">2026-01-12</time>' in open_item
    assert '<time datetime="2026-02-02">2026-02-02</time> (extended)' in open_item
    assert '<time datetime="2026-03-12">2026-03-12</time> (extended)' in open_item
    assert "<dt>Why we need more time</dt><dd>Your data is in three systems.</dd>" in open_item
    assert "Our answer" not in open_item
    closed_item = section[section.index(f'data-request-id="{closed.pk}"') :]
    closed_item = closed_item[: closed_item.index("</li>")]
    assert "<dt>State</dt><dd>Refused</dd>" in closed_item
    assert '<time datetime="2026-01-20">2026-01-20</time>' in closed_item
    assert "<dt>Our answer</dt><dd>We keep the invoices.</dd>" in closed_item
    assert "Answer due" not in closed_item
    assert "Why we answered after the deadline" not in closed_item
    assert '<a href="#requests">Ваши запросы</a>' in russian


def test_a_person_without_requests_is_told_so_and_where_to_file_one(anna):
    client = Client()
    client.force_login(anna)
    page = client.get("/privacy/").content.decode()
    assert "<p>You have not filed any request.</p>" in page
    assert '<a href="/privacy/request/">File a request</a>' in page
