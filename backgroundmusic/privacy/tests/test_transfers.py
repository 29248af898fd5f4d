"""Transfers abroad (privacy/transfers.py): transfer records, their staff page, what the person
sees in the privacy center, and the records of processing's transfers and stores."""

import re
from datetime import UTC, date, datetime

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import translation

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.audit.models import AuditAction, AuditEvent
from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.privacy import disclosures, transfers
from backgroundmusic.privacy.models import Adequacy, Recipient, TransferRecord
from backgroundmusic.privacy.processing import records_export
from backgroundmusic.staffroles.roles import StaffRole
from tests.callers import CALLERS, expected_by_caller
from tests.destinations import declare_destination

pytestmark = pytest.mark.django_db

EXPECTED = expected_by_caller(
    {"privacy_officer"}, allowed_outcome=200, refused_outcome=403, kinds=CALLERS, anonymous=302
)
TODAY = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)  # Tuesday, 12:00 in Moscow


@pytest.fixture
def officer() -> User:
    return StaffFactory.create(role=StaffRole.PRIVACY_OFFICER, username="the-officer")


@pytest.fixture
def known_callers(officer: User) -> dict[str, User]:
    return {"privacy_officer": officer}


def recipient(name: str = "Cloud Mail Inc.", country: str = "US") -> Recipient:
    return Recipient.objects.create(name=name, country=country, purpose_en="x", purpose_ru="x")


def add(officer, to: Recipient, **changes) -> TransferRecord:
    arguments = {
        "actor": officer,
        "recipient": to,
        "country": to.country.code,
        "basis": "contract",
        "safeguards": "Standard contract clauses; TLS in transit",
        "authority_notified_on": date(2026, 2, 2),
        **changes,
    }
    with clock.frozen_at(TODAY):
        return transfers.transfer_record_add(**arguments)


@pytest.mark.parametrize(
    "country, adequacy",
    [
        ("DE", Adequacy.CONVENTION_108),
        ("UY", Adequacy.CONVENTION_108),
        ("JP", Adequacy.AUTHORITY_LIST),
        ("US", Adequacy.NOT_ADEQUATE),
    ],
)
def test_adequacy_is_read_from_the_lists(country, adequacy):
    assert transfers.country_adequacy(country)[0] == adequacy


def test_an_adequate_country_starts_on_the_notice_date(officer):
    record = add(officer, recipient("Storage GmbH", "DE"))
    assert (
        record.adequacy,
        record.adequacy_source.startswith("Parties to the Council of Europe Convention 108"),
        record.starts_on,
        record.recorded_by_id,
    ) == (Adequacy.CONVENTION_108, True, date(2026, 2, 2), officer.pk)
    event = AuditEvent.objects.get(action=AuditAction.TRANSFER_RECORDED)
    assert event.after == {
        "recipient": "Storage GmbH",
        "country": "DE",
        "adequacy": "convention_108",
        "basis": "contract",
        "starts_on": "2026-02-02",
    }


def test_a_country_without_adequate_protection_waits_ten_working_days(officer):
    record = add(officer, recipient())
    # 2 February 2026 is a Monday: ten working days later is Monday 16 February.
    assert (record.adequacy, record.starts_on) == (Adequacy.NOT_ADEQUATE, date(2026, 2, 16))
    with clock.frozen_at(datetime(2026, 2, 15, 12, 0, tzinfo=UTC)):
        assert transfers.transfer_in_force(recipient_name="Cloud Mail Inc.", country="US") is None
    with clock.frozen_at(datetime(2026, 2, 16, 12, 0, tzinfo=UTC)):
        assert transfers.transfer_in_force(recipient_name="Cloud Mail Inc.", country="us") == record


@pytest.mark.parametrize(
    "changes, code",
    [
        ({"recipient": None}, "recipient_required"),
        ({"country": "XX"}, "country_required"),
        ({"country": "RU"}, "not_abroad"),
        ({"basis": "because"}, "basis_required"),
        ({"safeguards": "  "}, "safeguards_required"),
        ({"safeguards": "x" * 2001}, "safeguards_too_long"),
        ({"authority_notified_on": None}, "notice_required"),
        ({"authority_notified_on": date(2026, 2, 11)}, "notice_in_future"),
    ],
)
def test_an_incomplete_record_is_refused_and_nothing_written(officer, changes, code):
    with pytest.raises(DomainError) as refused:
        add(officer, recipient(), **changes)
    assert refused.value.code == code
    assert TransferRecord.objects.count() == 0
    assert not AuditEvent.objects.filter(action__startswith="transfer.").exists()


def test_a_second_record_in_force_is_refused_until_the_first_ends(officer):
    partner = recipient()
    first = add(officer, partner)
    with pytest.raises(DomainError) as refused:
        add(officer, partner)
    assert refused.value.code == "already_in_force"
    transfers.transfer_record_end(actor=officer, record=first)
    with pytest.raises(DomainError) as again:
        transfers.transfer_record_end(actor=officer, record=first)
    assert again.value.code == "already_ended"
    assert add(officer, partner).pk != first.pk
    actions = AuditEvent.objects.filter(action__startswith="transfer.").order_by("pk")
    assert list(actions.values_list("action", flat=True)) == [
        "transfer.recorded",
        "transfer.ended",
        "transfer.recorded",
    ]


def test_a_disclosure_abroad_without_a_record_in_force_is_refused(officer):
    person = UserFactory.create(username="person")
    partner = recipient("Label GmbH", "DE")

    def disclose(**changes):
        with clock.frozen_at(TODAY):
            arguments = {
                "recipient_name": "",
                "recipient": partner,
                "country": "DE",
                "legal_basis": "user_consent",
                "categories": ["user.contact.email"],
                "reference_document": "Consent of 1 February 2026",
                "disclosed_on": date(2026, 2, 9),
                **changes,
            }
            return disclosures.disclosure_record(actor=officer, subject=person, **arguments)

    for changes in ({}, {"recipient": None, "recipient_name": "Label GmbH"}):
        with pytest.raises(DomainError) as refused:
            disclose(**changes)
        assert refused.value.code == "transfer_record_required"
    record = add(officer, partner)
    # A record for another country does not cover it, nor a date before the record starts.
    with pytest.raises(DomainError):
        disclose(country="AT")
    with pytest.raises(DomainError):
        disclose(disclosed_on=date(2026, 2, 1))
    assert disclose().recipient_id == partner.pk
    transfers.transfer_record_end(actor=officer, record=record)
    with pytest.raises(DomainError):
        disclose()


def render_section(user) -> str:
    request = RequestFactory().get("/privacy/")
    request.user = user
    return Template("{% load privacy_center %}{% transfers_section %}").render(
        Context({"request": request})
    )


def rows(html: str) -> list[list[str]]:
    found = []
    for row in re.findall(r"<tr data-transfer-country=\"\w+\">(.*?)</tr>", html, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        found.append([re.sub(r"\s+", " ", cell).strip() for cell in cells])
    return found


def test_the_person_sees_transfers_of_their_data(settings, officer):
    person = UserFactory.create(username="person")
    mail = recipient("Cloud Mail Inc.", "US")
    declare_destination(
        settings,
        host="smtp.cloudmail.example",
        port=587,
        purpose="mail",
        recipient="Cloud Mail Inc.",
        country="US",
    )
    add(officer, mail, authority_notified_on=date(2026, 1, 12))
    # Abroad but not a destination, and no disclosure about this person: not shown.
    add(officer, recipient("Label GmbH", "DE"))
    with clock.frozen_at(TODAY):
        html = render_section(person)
        assert rows(html) == [
            [
                "Cloud Mail Inc.",
                "United States of America",
                "No adequate protection",
                "Performance of a contract with the person",
                "Standard contract clauses; TLS in transit",
            ]
        ]
        assert rows(render_section(UserFactory.create(username="other"))) == rows(html)


def test_someone_whose_data_stays_in_russia(officer):
    html = render_section(UserFactory.create(username="person"))
    assert rows(html) == []
    assert "Your data is not transferred abroad." in html


def test_the_records_of_processing_list_transfers_and_store_countries(settings, officer):
    settings.DATA_STORES = {
        "default database": {"country": "RU", "primary": True},
        "cache": {"country": "DE", "primary": False},
    }
    add(officer, recipient("Storage GmbH", "DE"))
    recipient("Mail Relay LLC", "US")
    with clock.frozen_at(TODAY), translation.override("en"):
        records = records_export(language="en")
    assert records["transfers"] == [
        {
            "recipient": "Mail Relay LLC",
            "country": {"code": "US", "name": "United States of America"},
            "adequacy": "",
            "basis": "",
            "authority_notified_on": "",
            "starts_on": "",
            "safeguards": "",
        },
        {
            "recipient": "Storage GmbH",
            "country": {"code": "DE", "name": "Germany"},
            "adequacy": "convention_108",
            "basis": "contract",
            "authority_notified_on": "2026-02-02",
            "starts_on": "2026-02-02",
            "safeguards": "Standard contract clauses; TLS in transit",
        },
    ]
    assert records["notification_152fz"]["database_countries"] == [{"code": "RU", "name": "Russia"}]


@pytest.mark.parametrize("caller", CALLERS)
def test_transfers_page_access(caller, caller_for, officer):
    record = add(officer, recipient())
    response = caller_for(caller).client.get("/staff/transfers/")
    assert response.status_code == EXPECTED[caller]
    html = response.content.decode()
    assert (f'data-transfer-id="{record.pk}"' in html) == (EXPECTED[caller] == 200)


FORM = {
    "country": "US",
    "basis": "written_consent",
    "safeguards": "Encrypted at rest",
    "authority_notified_on": "2026-02-02",
}


@pytest.mark.parametrize("caller", CALLERS)
def test_recording_a_transfer_access(caller, caller_for, officer):
    partner = recipient()
    with clock.frozen_at(TODAY):
        response = caller_for(caller).client.post(
            "/staff/transfers/", {**FORM, "recipient": partner.pk}
        )
    if EXPECTED[caller] != 200:
        assert response.status_code == EXPECTED[caller]
        assert TransferRecord.objects.count() == 0
        return
    assert (response.status_code, response["Location"]) == (302, "/staff/transfers/")
    record = TransferRecord.objects.get()
    assert (record.recipient_id, record.country.code, record.basis, record.starts_on) == (
        partner.pk,
        "US",
        "written_consent",
        date(2026, 2, 16),
    )


def test_a_refused_record_keeps_the_input(caller_for):
    partner = recipient()
    data = {**FORM, "recipient": partner.pk, "authority_notified_on": "2026-03-01"}
    with clock.frozen_at(TODAY):
        response = caller_for("privacy_officer").client.post("/staff/transfers/", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "The date of the notice cannot be in the future." in html
    assert "Encrypted at rest" in html
    assert TransferRecord.objects.count() == 0


@pytest.mark.parametrize("caller", CALLERS)
def test_ending_a_transfer_access(caller, caller_for, officer):
    record = add(officer, recipient())
    response = caller_for(caller).client.post(f"/staff/transfers/{record.pk}/end/")
    record.refresh_from_db()
    if EXPECTED[caller] != 200:
        assert response.status_code == EXPECTED[caller]
        assert record.ended_at is None
        return
    assert (response.status_code, record.ended_at is not None) == (302, True)
