"""The register of recipients (privacy/recipients.py): its services and their audit rows, the
privacy officer's page, sharing in the privacy center, and the deploy check that the declared
outbound destinations agree with the register."""

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import translation

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.audit.models import AuditAction, AuditEvent
from backgroundmusic.core import clock
from backgroundmusic.core.errors import ActionRefused, DomainError
from backgroundmusic.privacy import recipients, transfers
from backgroundmusic.privacy.consents import sharing_recipients_offered
from backgroundmusic.privacy.models import Disclosure, Recipient, TransferRecord
from backgroundmusic.staffroles.roles import StaffRole
from tests.callers import CALLERS, expected_by_caller
from tests.destinations import declare_destination

pytestmark = pytest.mark.django_db

PAGE = expected_by_caller(
    {"privacy_officer"}, allowed_outcome=200, refused_outcome=403, kinds=CALLERS, anonymous=302
)
MAY_ACT = expected_by_caller({"privacy_officer"}, allowed_outcome=True, refused_outcome=False)
TODAY = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)

ENTRY: dict[str, Any] = {
    "name": "Cloud Mail Inc.",
    "country": "US",
    "purpose_en": "Delivers the site's e-mail.",
    "purpose_ru": "Доставляет письма сайта.",
    "categories": ["user.contact.email", "user.name"],
    "shared_with_consent": False,
}


@pytest.fixture
def officer() -> User:
    return StaffFactory.create(role=StaffRole.PRIVACY_OFFICER, username="the-officer")


@pytest.fixture
def known_callers(officer: User) -> dict[str, User]:
    return {"privacy_officer": officer}


def add(officer: User, **changes: Any) -> Recipient:
    return recipients.recipient_add(actor=officer, **{**ENTRY, **changes})


def update(officer: User, recipient: Recipient, **changes: Any) -> Recipient:
    return recipients.recipient_update(actor=officer, recipient=recipient, **{**ENTRY, **changes})


def register_rows() -> list[tuple[Any, ...]]:
    return list(
        Recipient.objects.order_by("pk").values_list(
            "name",
            "country",
            "purpose_en",
            "purpose_ru",
            "categories",
            "shared_with_consent",
            "is_active",
        )
    )


def recipient_events() -> list[tuple[Any, ...]]:
    return list(
        AuditEvent.objects.filter(action__startswith="recipient.")
        .order_by("pk")
        .values_list("action", "actor_id", "target_id", "before", "after")
    )


def test_adding_puts_an_active_recipient_on_the_register_with_its_audit_row(officer):
    added = add(officer, categories=["user.name", "user.contact.email", "user.name"])
    assert register_rows() == [
        (
            "Cloud Mail Inc.",
            "US",
            "Delivers the site's e-mail.",
            "Доставляет письма сайта.",
            # In the data map's order, once each.
            ["user.contact.email", "user.name"],
            False,
            True,
        )
    ]
    assert recipient_events() == [
        (
            "recipient.added",
            officer.pk,
            str(added.pk),
            {},
            {
                "name": "Cloud Mail Inc.",
                "country": "US",
                "purpose_en": "Delivers the site's e-mail.",
                "purpose_ru": "Доставляет письма сайта.",
                "categories": ["user.contact.email", "user.name"],
                "shared_with_consent": False,
                "is_active": True,
            },
        )
    ]


def test_an_update_records_only_what_changed_and_nothing_when_nothing_did(officer):
    entry = add(officer)
    assert update(officer, entry, name="  Cloud Mail Inc. ").pk == entry.pk
    assert [row[0] for row in recipient_events()] == ["recipient.added"]
    update(officer, entry, purpose_en="Delivers mail.", shared_with_consent=True)
    assert register_rows()[0][2::3] == ("Delivers mail.", True)
    assert recipient_events()[1] == (
        "recipient.updated",
        officer.pk,
        str(entry.pk),
        {"purpose_en": "Delivers the site's e-mail.", "shared_with_consent": False},
        {"purpose_en": "Delivers mail.", "shared_with_consent": True},
    )


def test_deactivating_keeps_the_recipient_and_happens_once(officer):
    entry = add(officer)
    recipients.recipient_deactivate(actor=officer, recipient=entry)
    assert register_rows()[0][-1] is False
    with pytest.raises(DomainError) as again:
        recipients.recipient_deactivate(actor=officer, recipient=entry)
    assert again.value.code == "already_inactive"
    assert recipient_events()[1:] == [
        (
            "recipient.deactivated",
            officer.pk,
            str(entry.pk),
            {"is_active": True},
            {"name": "Cloud Mail Inc.", "is_active": False},
        )
    ]


BAD_ENTRIES = [
    ({"name": "   "}, "name_required"),
    ({"name": "x" * 201}, "name_too_long"),
    ({"name": "label gmbh"}, "name_taken"),
    ({"country": "XX"}, "country_required"),
    ({"country": ""}, "country_required"),
    ({"purpose_en": " "}, "purpose_required"),
    ({"purpose_ru": ""}, "purpose_required"),
    ({"purpose_ru": "x" * 2001}, "purpose_too_long"),
    ({"categories": []}, "categories_required"),
    ({"categories": ["user.contact.email", "user.soul"]}, "unknown_categories"),
]


@pytest.mark.parametrize("changes, code", BAD_ENTRIES)
def test_a_bad_entry_is_refused_and_nothing_changes(officer, changes, code):
    add(officer, name="Label GmbH", country="DE")
    existing = add(officer)
    rows, events = register_rows(), recipient_events()
    with pytest.raises(DomainError) as refused_add:
        add(officer, **{**changes, "name": changes.get("name", "New Partner")})
    assert refused_add.value.code == code
    with pytest.raises(DomainError) as refused_update:
        update(officer, existing, **changes)
    assert refused_update.value.code == code
    assert (register_rows(), recipient_events()) == (rows, events)


def test_the_country_cannot_change_while_a_transfer_record_is_in_force(officer):
    entry = add(officer)
    with clock.frozen_at(TODAY):
        record = transfers.transfer_record_add(
            actor=officer,
            recipient=entry,
            country="US",
            basis="contract",
            safeguards="Contract clauses",
            authority_notified_on=date(2026, 2, 2),
        )
    rows, events = register_rows(), recipient_events()
    with pytest.raises(DomainError) as refused, translation.override("en"):
        update(officer, entry, country="IE")
    assert (refused.value.code, refused.value.message) == (
        "transfer_in_force",
        "This recipient has a transfer record in force: end it under Transfers abroad before "
        "changing the recipient's country.",
    )
    assert (register_rows(), recipient_events()) == (rows, events)
    # Its other fields may change; once the record has ended, so may the country.
    update(officer, entry, purpose_ru="Доставляет почту.")
    transfers.transfer_record_end(actor=officer, record=record)
    assert update(officer, entry, country="IE", purpose_ru="Доставляет почту.").country == "IE"


def acting(caller_for: Any, kind: str) -> Any:
    user = caller_for(kind).user
    return AnonymousUser() if user is None else user


@pytest.mark.parametrize("kind", MAY_ACT)
def test_each_service_acts_only_for_the_privacy_officer(kind, caller_for, officer):
    entry = add(officer, name="Label GmbH", country="DE")
    actor = acting(caller_for, kind)
    rows, events = register_rows(), recipient_events()
    calls = [
        lambda: recipients.recipient_add(actor=actor, **ENTRY),
        lambda: recipients.recipient_update(
            actor=actor, recipient=entry, **{**ENTRY, "name": "Label", "country": "DE"}
        ),
        lambda: recipients.recipient_deactivate(actor=actor, recipient=entry),
    ]
    if MAY_ACT[kind]:
        for call in calls:
            call()
        assert [row[0] for row in recipient_events()[1:]] == [
            "recipient.added",
            "recipient.updated",
            "recipient.deactivated",
        ]
        return
    for call in calls:
        with pytest.raises(ActionRefused):
            call()
    assert (register_rows(), recipient_events()) == (rows, events)
    assert list(
        AuditEvent.objects.filter(action=AuditAction.SERVICE_DENIED)
        .order_by("pk")
        .values_list("after__service", flat=True)
    ) == ["privacy.recipient_add", "privacy.recipient_update", "privacy.recipient_deactivate"]


@pytest.mark.parametrize("caller", CALLERS)
def test_recipients_page_access(caller, caller_for, officer):
    active = add(officer)
    inactive = add(officer, name="Old Partner", country="DE")
    recipients.recipient_deactivate(actor=officer, recipient=inactive)
    response = caller_for(caller).client.get("/staff/recipients/")
    assert response.status_code == PAGE[caller]
    if PAGE[caller] != 200:
        return
    html = response.content.decode()
    listed = re.findall(r'<li data-recipient-id="(\d+)"( class="inactive")?>', html)
    assert listed == [(str(active.pk), ""), (str(inactive.pk), ' class="inactive"')]
    assert "E-mail address" in html


FORM = {
    "name": "Storage GmbH",
    "country": "DE",
    "purpose_en": "Keeps the uploaded masters.",
    "purpose_ru": "Хранит загруженные мастер-записи.",
    "categories": ["user.account.settings"],
}


@pytest.mark.parametrize("caller", CALLERS)
def test_adding_a_recipient_through_the_page_access(caller, caller_for):
    response = caller_for(caller).client.post("/staff/recipients/", FORM)
    if PAGE[caller] != 200:
        assert response.status_code == PAGE[caller]
        assert Recipient.objects.count() == 0
        return
    assert (response.status_code, response["Location"]) == (302, "/staff/recipients/")
    assert register_rows() == [
        (
            "Storage GmbH",
            "DE",
            "Keeps the uploaded masters.",
            "Хранит загруженные мастер-записи.",
            ["user.account.settings"],
            False,
            True,
        )
    ]


@pytest.mark.parametrize("caller", CALLERS)
def test_changing_and_deactivating_through_the_page_access(caller, caller_for, officer):
    entry = add(officer)
    client = caller_for(caller).client
    edit = client.get(f"/staff/recipients/{entry.pk}/")
    assert edit.status_code == PAGE[caller]
    changed = client.post(
        f"/staff/recipients/{entry.pk}/",
        {**FORM, "name": "Cloud Mail Inc.", "country": "US", "shared_with_consent": "on"},
    )
    deactivated = client.post(f"/staff/recipients/{entry.pk}/deactivate/")
    if PAGE[caller] != 200:
        assert (changed.status_code, deactivated.status_code) == (PAGE[caller], PAGE[caller])
        assert register_rows()[0] == (
            "Cloud Mail Inc.",
            "US",
            *[ENTRY[k] for k in ("purpose_en", "purpose_ru", "categories", "shared_with_consent")],
            True,
        )
        return
    assert 'value="Cloud Mail Inc."' in edit.content.decode()
    assert (changed["Location"], deactivated["Location"]) == (
        "/staff/recipients/",
        "/staff/recipients/",
    )
    assert register_rows()[0] == (
        "Cloud Mail Inc.",
        "US",
        "Keeps the uploaded masters.",
        "Хранит загруженные мастер-записи.",
        ["user.account.settings"],
        True,
        False,
    )


def test_a_refused_entry_keeps_what_was_typed(caller_for, officer):
    add(officer, name="Storage GmbH", country="DE")
    client = caller_for("privacy_officer").client
    with translation.override("en"):
        response = client.post(
            "/staff/recipients/", {**FORM, "name": "storage gmbh", "purpose_en": "Keeps it all."}
        )
    assert response.status_code == 200
    html = response.content.decode()
    assert "A recipient named “storage gmbh” is already on the register." in html
    assert 'value="storage gmbh"' in html
    assert "Keeps it all." in html
    assert 'value="user.account.settings" id="id_categories_1" checked' in html
    assert Recipient.objects.count() == 1
    # A character the text rules refuse is a form error; nothing is written either.
    refused = client.post("/staff/recipients/", {**FORM, "name": "Bad\u202ename"})
    assert refused.status_code == 200
    assert "Keeps the uploaded masters." in refused.content.decode()
    assert Recipient.objects.count() == 1


def test_the_page_in_russian(caller_for, officer):
    add(officer)
    client = caller_for("privacy_officer").client
    html = client.get("/staff/recipients/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "<h1>Получатели</h1>" in html
    assert "Добавить получателя" in html
    assert "<li>Адрес электронной почты</li>" in html


def test_a_deactivated_recipient_is_no_longer_offered_for_sharing(officer):
    label = add(officer, name="Label GmbH", country="DE", shared_with_consent=True)
    add(officer, name="Radio LLC", country="RU", shared_with_consent=True)
    assert [r.name for r in sharing_recipients_offered()] == ["Label GmbH", "Radio LLC"]
    recipients.recipient_deactivate(actor=officer, recipient=label)
    assert [r.name for r in sharing_recipients_offered()] == ["Radio LLC"]


def deploy_problems() -> list[tuple[str, str]]:
    return [
        (problem.id or "", problem.hint or "")
        for problem in transfers.register_agrees_check(databases=["default"])
    ]


def test_the_deploy_check_points_to_the_register_and_flags_a_deactivated_recipient(
    settings, officer
):
    settings.OUTBOUND_DESTINATIONS = []
    declare_destination(
        settings, host="smtp.mail.example", port=587, purpose="mail", recipient="Mail LLC"
    )
    assert deploy_problems() == [
        ("privacy.E031", "The privacy officer adds 'Mail LLC' in RU under /staff/recipients/.")
    ]
    mail = add(officer, name="Mail LLC", country="KZ")
    assert deploy_problems() == [
        (
            "privacy.E032",
            "Correct the destination's country in OUTBOUND_DESTINATIONS, or the recipient's "
            "country under /staff/recipients/.",
        )
    ]
    update(officer, mail, name="Mail LLC", country="RU")
    assert deploy_problems() == []
    recipients.recipient_deactivate(actor=officer, recipient=mail)
    assert deploy_problems() == [
        (
            "privacy.E034",
            "Stop using the destination (remove it from OUTBOUND_DESTINATIONS), or name an "
            "active recipient on the register under /staff/recipients/.",
        )
    ]


def test_a_deactivated_recipient_gets_no_new_transfer_record(caller_for, officer):
    partner = add(officer, name="Label GmbH", country="DE")
    recipients.recipient_deactivate(actor=officer, recipient=partner)
    with pytest.raises(DomainError) as refused, clock.frozen_at(TODAY):
        transfers.transfer_record_add(
            actor=officer,
            recipient=partner,
            country="DE",
            basis="contract",
            safeguards="Contract clauses",
            authority_notified_on=date(2026, 2, 2),
        )
    assert refused.value.code == "recipient_inactive"
    html = caller_for("privacy_officer").client.get("/staff/transfers/").content.decode()
    assert f'<option value="{partner.pk}">' not in html
    assert not TransferRecord.objects.exists()


def test_reactivating_puts_the_recipient_back_and_happens_once(officer):
    entry = add(officer)
    recipients.recipient_deactivate(actor=officer, recipient=entry)
    assert recipients.recipient_reactivate(actor=officer, recipient=entry).is_active is True
    assert register_rows()[0][-1] is True
    with pytest.raises(DomainError) as again:
        recipients.recipient_reactivate(actor=officer, recipient=entry)
    assert again.value.code == "already_active"
    assert recipient_events()[2:] == [
        (
            "recipient.reactivated",
            officer.pk,
            str(entry.pk),
            {"is_active": False},
            {"name": "Cloud Mail Inc.", "is_active": True},
        )
    ]


@pytest.mark.parametrize(("kind", "allowed"), MAY_ACT.items())
def test_reactivating_by_every_caller(kind, allowed, caller_for, officer):
    entry = add(officer)
    recipients.recipient_deactivate(actor=officer, recipient=entry)
    actor = acting(caller_for, kind)
    rows, events = register_rows(), recipient_events()
    if allowed:
        recipients.recipient_reactivate(actor=actor, recipient=entry)
        assert register_rows()[0][-1] is True
        assert recipient_events()[-1][:2] == ("recipient.reactivated", actor.pk)
        return
    with pytest.raises(ActionRefused):
        recipients.recipient_reactivate(actor=actor, recipient=entry)
    assert (register_rows(), recipient_events()) == (rows, events)
    assert list(
        AuditEvent.objects.filter(action=AuditAction.SERVICE_DENIED).values_list(
            "after__service", flat=True
        )
    ) == ["privacy.recipient_reactivate"]


@pytest.mark.parametrize("caller", CALLERS)
def test_reactivating_through_the_page_access(caller, caller_for, officer):
    entry = add(officer)
    recipients.recipient_deactivate(actor=officer, recipient=entry)
    client = caller_for(caller).client
    reactivate_by_get = client.get(f"/staff/recipients/{entry.pk}/reactivate/")
    assert reactivate_by_get.status_code == (302 if caller == "anonymous" else 405)
    response = client.post(f"/staff/recipients/{entry.pk}/reactivate/")
    if PAGE[caller] != 200:
        assert response.status_code == PAGE[caller]
        assert register_rows()[0][-1] is False
        assert [row[0] for row in recipient_events()] == [
            "recipient.added",
            "recipient.deactivated",
        ]
        return
    assert (response.status_code, response["Location"]) == (302, "/staff/recipients/")
    assert register_rows()[0][-1] is True
    assert recipient_events()[-1][:3] == ("recipient.reactivated", officer.pk, str(entry.pk))
    page = client.get("/staff/recipients/").content.decode()
    assert f'action="/staff/recipients/{entry.pk}/deactivate/"' in page
    assert f'action="/staff/recipients/{entry.pk}/reactivate/"' not in page


def test_the_recipients_page_offers_reactivation_for_a_deactivated_one(caller_for, officer):
    entry = add(officer)
    recipients.recipient_deactivate(actor=officer, recipient=entry)
    page = caller_for("privacy_officer").client.get("/staff/recipients/").content.decode()
    assert f'action="/staff/recipients/{entry.pk}/reactivate/"' in page
    assert f'action="/staff/recipients/{entry.pk}/deactivate/"' not in page


def test_the_disclosure_form_does_not_offer_a_deactivated_recipient(caller_for, officer):
    UserFactory.create(username="disclosed")
    active = add(officer, name="Court Registry", country="RU")
    inactive = add(officer, name="Old Partner", country="RU")
    recipients.recipient_deactivate(actor=officer, recipient=inactive)
    client = caller_for("privacy_officer").client
    html = client.get("/staff/disclosures/new/").content.decode()
    assert f'<option value="{active.pk}">Court Registry</option>' in html
    assert "Old Partner" not in html
    with clock.frozen_at(TODAY):
        response = client.post(
            "/staff/disclosures/new/",
            {
                "subject": "disclosed",
                "recipient": inactive.pk,
                "recipient_name": "",
                "country": "RU",
                "legal_basis": "fraud_prevention",
                "categories": ["user.contact.email"],
                "reference_document": "Request 5",
                "disclosed_on": "2026-02-09",
            },
        )
    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert not Disclosure.objects.exists()
