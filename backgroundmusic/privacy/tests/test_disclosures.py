"""The disclosure register (privacy/disclosures.py), its staff pages, and the privacy center's
"Disclosures about you" section with legal holds."""

import re
from datetime import UTC, date, datetime

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.privacy import disclosures, transfers
from backgroundmusic.privacy.kernel.pseudonyms import subject_pseudonym
from backgroundmusic.privacy.models import Disclosure, Recipient
from backgroundmusic.staffroles.roles import StaffRole
from tests.callers import CALLERS, expected_by_caller

pytestmark = pytest.mark.django_db

EXPECTED = expected_by_caller(
    {"privacy_officer"}, allowed_outcome=200, refused_outcome=403, kinds=CALLERS, anonymous=302
)
TODAY = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)  # 12:00 in Moscow


@pytest.fixture
def owner() -> User:
    return UserFactory.create(username="owner", email="owner@example.com")


@pytest.fixture
def officer() -> User:
    return StaffFactory.create(role=StaffRole.PRIVACY_OFFICER, username="the-officer")


@pytest.fixture
def known_callers(officer: User) -> dict[str, User]:
    return {"privacy_officer": officer}


def abroad(officer, name: str, country: str) -> Recipient:
    """A recipient on the register in `country`, with a transfer record in force since 2026."""
    recipient = Recipient.objects.create(
        name=name, country=country, purpose_en="News", purpose_ru="Новости"
    )
    with clock.frozen_at(TODAY):
        transfers.transfer_record_add(
            actor=officer,
            recipient=recipient,
            country=country,
            basis="contract",
            safeguards="Standard contract clauses; TLS in transit",
            authority_notified_on=date(2026, 1, 5),
        )
    return recipient


def record(officer, subject, **changes) -> Disclosure:
    arguments = {
        "actor": officer,
        "subject": subject,
        "recipient_name": "Investigative Committee, Vladivostok",
        "country": "RU",
        "legal_basis": "court_decision",
        "categories": ["user.contact.email", "user.name"],
        "reference_document": "Court decision No. 2-117/2026 of 2 February 2026",
        "disclosed_on": date(2026, 2, 5),
        **changes,
    }
    with clock.frozen_at(TODAY):
        return disclosures.disclosure_record(**arguments)


def test_recording_keeps_the_person_as_account_and_pseudonym(officer, owner):
    disclosure = record(officer, owner)
    assert (
        disclosure.subject_id,
        disclosure.subject_pseudonym,
        disclosure.recipient_name,
        disclosure.country.code,
        disclosure.legal_basis,
        disclosure.categories,
        disclosure.reference_document,
        disclosure.disclosed_on,
        disclosure.recorded_at,
        disclosure.recorded_by_id,
        disclosure.legal_hold_until,
        disclosure.legal_hold_reason,
    ) == (
        owner.pk,
        subject_pseudonym(subject_id=owner.pk),
        "Investigative Committee, Vladivostok",
        "RU",
        "court_decision",
        ["user.contact.email", "user.name"],  # in the order of registry.Category
        "Court decision No. 2-117/2026 of 2 February 2026",
        date(2026, 2, 5),
        TODAY,
        officer.pk,
        None,
        "",
    )


def test_a_recipient_on_the_register_names_the_disclosure(officer, owner):
    partner = abroad(officer, "Demo Partner Label", "DE")
    disclosure = record(officer, owner, recipient=partner, recipient_name="", country="de")
    assert (disclosure.recipient_id, disclosure.recipient_name, disclosure.country.code) == (
        partner.pk,
        "Demo Partner Label",
        "DE",
    )


@pytest.mark.parametrize(
    "country, cross_border", [("RU", False), ("ru", False), ("DE", True), ("KZ", True)]
)
def test_any_country_but_russia_is_cross_border(country, cross_border):
    assert transfers.is_cross_border(country) is cross_border


@pytest.mark.parametrize(
    "changes, code",
    [
        ({"subject": None}, "subject_required"),
        ({"recipient_name": "  "}, "recipient_required"),
        ({"country": "XX"}, "country_required"),
        ({"country": ""}, "country_required"),
        ({"legal_basis": "curiosity"}, "legal_basis_required"),
        ({"categories": []}, "categories_required"),
        ({"categories": ["user.secrets"]}, "unknown_categories"),
        ({"reference_document": ""}, "reference_required"),
        ({"reference_document": "x" * 301}, "reference_required_too_long"),
        ({"disclosed_on": date(2026, 2, 11)}, "disclosed_in_future"),
        ({"legal_hold_until": date(2026, 6, 1)}, "hold_reason_required"),
        ({"legal_hold_reason": "A gag order"}, "hold_date_required"),
        (
            {"legal_hold_until": date(2026, 2, 5), "legal_hold_reason": "A gag order"},
            "hold_ends_early",
        ),
    ],
)
def test_recording_refuses_incomplete_entries_and_writes_nothing(officer, owner, changes, code):
    if changes.get("subject", owner) is None:
        changes = {**changes, "subject": None}
    with pytest.raises(DomainError) as refused:
        record(officer, changes.pop("subject", owner), **changes)
    assert refused.value.code == code
    assert Disclosure.objects.count() == 0


def test_a_held_disclosure_appears_when_the_hold_ends(officer, owner):
    open_one = record(officer, owner, disclosed_on=date(2026, 1, 20))
    held = record(
        officer,
        owner,
        legal_hold_until=date(2026, 3, 1),
        legal_hold_reason="Investigator's order not to inform the person until 1 March",
    )
    record(officer, UserFactory.create(username="other-person"))
    # 23:59 in Moscow on 28 February: still held.
    with clock.frozen_at(datetime(2026, 2, 28, 20, 59, tzinfo=UTC)):
        assert list(disclosures.disclosures_visible_to(subject=owner)) == [open_one]
        assert disclosures.disclosure_hold_active(disclosure=held) is True
    # Midnight in Moscow on 1 March: the hold has ended.
    with clock.frozen_at(datetime(2026, 2, 28, 21, 0, tzinfo=UTC)):
        assert list(disclosures.disclosures_visible_to(subject=owner)) == [held, open_one]
        assert disclosures.disclosure_hold_active(disclosure=held) is False


def render_section(user) -> str:
    request = RequestFactory().get("/privacy/")
    request.user = user
    return Template("{% load privacy_center %}{% disclosures_section %}").render(
        Context({"request": request})
    )


def section_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-disclosure-id="(\d+)"', html)]


def test_the_privacy_center_section_shows_the_person_their_disclosures(officer, owner):
    shown = record(
        officer,
        owner,
        recipient=abroad(officer, "Demo Partner Label", "DE"),
        recipient_name="",
        country="DE",
        legal_basis="user_consent",
        categories=["user.contact.email"],
    )
    held = record(
        officer,
        owner,
        disclosed_on=date(2026, 2, 4),
        legal_hold_until=date(2026, 3, 1),
        legal_hold_reason="Order",
    )
    others = record(officer, UserFactory.create(username="other-person"))
    with clock.frozen_at(TODAY):
        html = render_section(owner)
        assert section_ids(html) == [shown.pk]
        row = re.search(rf'<tr data-disclosure-id="{shown.pk}">(.*?)</tr>', html, re.S)
        assert row is not None
        cells = [
            re.sub(r"\s+", " ", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row[1], re.S)
        ]
        cells = [re.sub(r"<[^>]+>", "", c) for c in cells]
        assert cells == [
            "2026-02-05",
            "Demo Partner Label",
            "Germany (outside Russia)",
            "The person&#x27;s consent",
            "E-mail address",
        ]
        assert "Order" not in html
        assert "Court decision No." not in html
    with clock.frozen_at(datetime(2026, 3, 1, 9, 0, tzinfo=UTC)):
        assert section_ids(render_section(owner)) == [shown.pk, held.pk]
        assert others.pk not in section_ids(render_section(owner))


def test_the_section_for_someone_with_no_disclosures(owner):
    html = render_section(owner)
    assert section_ids(html) == []
    assert "There are no disclosures of your data to show." in html


@pytest.mark.parametrize("caller", CALLERS)
def test_register_access(caller, caller_for, officer, owner):
    disclosure = record(officer, owner, legal_hold_until=date(2026, 3, 1), legal_hold_reason="Gag")
    with clock.frozen_at(TODAY):
        response = caller_for(caller).client.get("/staff/disclosures/")
    assert response.status_code == EXPECTED[caller]
    if caller == "anonymous":
        assert response["Location"] == "/accounts/login/?next=/staff/disclosures/"
    html = response.content.decode()
    assert (f'data-disclosure-id="{disclosure.pk}"' in html) == (EXPECTED[caller] == 200)
    assert "owner@example.com" not in html


@pytest.mark.parametrize("caller", CALLERS)
def test_new_disclosure_page_access(caller, caller_for):
    response = caller_for(caller).client.get("/staff/disclosures/new/")
    assert response.status_code == EXPECTED[caller]
    assert ('id="disclosure-form"' in response.content.decode()) == (EXPECTED[caller] == 200)


FORM = {
    "subject": "owner",
    "recipient": "",
    "recipient_name": "Bank of Cyprus",
    "country": "CY",
    "legal_basis": "fraud_prevention",
    "categories": ["user.contact.email", "user.device.ip_address"],
    "reference_document": "Fraud report FR-88",
    "disclosed_on": "2026-02-09",
    "legal_hold_until": "",
    "legal_hold_reason": "",
}


@pytest.mark.parametrize("caller", CALLERS)
def test_recording_a_disclosure_access(caller, caller_for, owner, officer):
    bank = abroad(officer, "Bank of Cyprus", "CY")
    with clock.frozen_at(TODAY):
        response = caller_for(caller).client.post(
            "/staff/disclosures/new/", {**FORM, "recipient": bank.pk, "recipient_name": ""}
        )
    if EXPECTED[caller] != 200:
        assert response.status_code == EXPECTED[caller]
        assert Disclosure.objects.count() == 0
        return
    assert response.status_code == 302
    assert response["Location"] == "/staff/disclosures/"
    disclosure = Disclosure.objects.get()
    assert (
        disclosure.subject_id,
        disclosure.recipient_name,
        disclosure.country.code,
        disclosure.legal_basis,
        disclosure.categories,
        disclosure.disclosed_on,
        disclosure.recorded_by_id,
    ) == (
        owner.pk,
        "Bank of Cyprus",
        "CY",
        "fraud_prevention",
        ["user.contact.email", "user.device.ip_address"],
        date(2026, 2, 9),
        officer.pk,
    )


def test_the_register_flags_cross_border_and_active_holds(caller_for, officer, owner):
    cross = record(
        officer,
        owner,
        recipient=abroad(officer, "Bank of Cyprus", "CY"),
        country="CY",
        legal_hold_until=date(2026, 3, 1),
        legal_hold_reason="Police order 12/2026",
    )
    home = record(officer, owner)
    with clock.frozen_at(TODAY):
        html = caller_for("privacy_officer").client.get("/staff/disclosures/").content.decode()
    abroad_row = re.search(rf'<tr data-disclosure-id="{cross.pk}">(.*?)</tr>', html, re.S)
    home_row = re.search(rf'<tr data-disclosure-id="{home.pk}">(.*?)</tr>', html, re.S)
    assert abroad_row is not None and home_row is not None
    assert '<span class="cross-border">cross-border</span>' in abroad_row[1]
    assert "cross-border" not in home_row[1]
    assert "hidden from the person until 2026-03-01" in abroad_row[1]
    assert "Police order 12/2026" in abroad_row[1]
    assert f"#{owner.pk} (owner)" in abroad_row[1]


def test_an_incomplete_form_keeps_the_input(caller_for):
    data = {**FORM, "reference_document": "", "recipient_name": "Kept Name Ltd"}
    with clock.frozen_at(TODAY):
        response = caller_for("privacy_officer").client.post("/staff/disclosures/new/", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "This field is required." in html
    assert 'value="Kept Name Ltd"' in html
    assert Disclosure.objects.count() == 0


def test_a_hold_without_reason_is_refused_with_the_input_kept(caller_for):
    data = {**FORM, "legal_hold_until": "2026-04-01"}
    with clock.frozen_at(TODAY):
        response = caller_for("privacy_officer").client.post("/staff/disclosures/new/", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Give the reason for the legal hold" in html
    assert 'value="2026-04-01"' in html
    assert Disclosure.objects.count() == 0


@pytest.mark.parametrize(
    "changes",
    [
        {"subject": "nobody-at-all"},
        {"country": "ZZ"},
        {"legal_basis": "whim"},
        {"categories": ["user.secrets"]},
        {"disclosed_on": "2026-13-45"},
        {"recipient": "999999"},
        {"recipient_name": "", "recipient": ""},
        {"subject": "x" * 1000},
    ],
)
def test_bad_input_is_never_a_500(caller_for, changes):
    with clock.frozen_at(TODAY):
        response = caller_for("privacy_officer").client.post(
            "/staff/disclosures/new/", {**FORM, **changes}
        )
    assert response.status_code == 200
    assert Disclosure.objects.count() == 0
