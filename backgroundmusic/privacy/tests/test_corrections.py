"""Corrections of a person's own data write one audit event each (field names, never values),
and the privacy center lists them to that person only."""

import re
from dataclasses import replace

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from backgroundmusic.accounts import services
from backgroundmusic.accounts.models import Profile, User
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.audit.models import AuditAction, AuditEvent
from backgroundmusic.privacy.tests.test_export import reauthenticate
from backgroundmusic.staffroles.roles import StaffRole

pytestmark = pytest.mark.django_db

BLANK = services.ProfileData(
    username="owner",
    full_name="",
    account_type="natural",
    company_name="",
    tax_id="",
    address_country="",
    address_region="",
    address_city="",
    address_street="",
    address_postcode="",
    social_links=[],
)


def corrections(user: User) -> list[tuple[str, int | None, list[str]]]:
    return [
        (event.action, event.actor_id, event.after["fields"])
        for event in AuditEvent.objects.filter(
            target_type="accounts.User", target_id=str(user.pk)
        ).order_by("pk")
    ]


@pytest.fixture
def owner() -> User:
    return UserFactory.create(username="owner", email="owner@example.com")


def test_a_profile_change_writes_one_event_naming_the_changed_fields(owner):
    services.profile_update(
        user=owner,
        data=replace(
            BLANK,
            username="owner2",
            full_name="Ivan Petrov",
            address_city="Vladivostok",
            social_links=["https://vk.com/ivan"],
            phone="+74232223344",
            language="ru",
        ),
    )
    assert corrections(owner) == [
        (
            "profile.corrected",
            owner.pk,
            [
                "accounts.User.username",
                "accounts.Profile.full_name",
                "accounts.Profile.address_city",
                "accounts.Profile.phone",
                "accounts.Profile.language",
                "accounts.SocialLink.url",
            ],
        )
    ]
    event = AuditEvent.objects.get()
    assert (event.before, event.reason) == ({}, "")
    for value in ("Ivan", "Vladivostok", "vk.com", "4232223344", "owner2"):
        assert value not in str(event.after)


def test_saving_the_profile_unchanged_writes_nothing(owner):
    services.profile_update(user=owner, data=replace(BLANK, full_name="Anna"))
    services.profile_update(user=owner, data=replace(BLANK, full_name="Anna"))
    assert corrections(owner) == [("profile.corrected", owner.pk, ["accounts.Profile.full_name"])]


def test_a_failed_update_writes_no_event(owner):
    with pytest.raises(ValueError, match="unknown language"):
        services.profile_update(user=owner, data=replace(BLANK, full_name="X", language="de"))
    assert corrections(owner) == []
    assert Profile.objects.get(user=owner).full_name == ""


def confirmation_path() -> str:
    found = re.search(r"/accounts/confirm-email/[^/\s]+/", str(mail.outbox[-1].body))
    assert found is not None, mail.outbox[-1].body
    return found.group(0)


def test_changing_the_email_address_writes_added_then_changed(client, owner):
    reauthenticate(client, owner)
    mail.outbox.clear()
    response = client.post(
        "/accounts/email/", {"email": "new@example.com", "action_add": ""}, follow=False
    )
    assert response.status_code == 302
    assert corrections(owner) == [("email.added", owner.pk, ["account.EmailAddress.email"])]

    response = client.post(confirmation_path())
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.email == "new@example.com"
    assert corrections(owner) == [
        ("email.added", owner.pk, ["account.EmailAddress.email"]),
        ("email.changed", owner.pk, ["account.EmailAddress.email"]),
    ]
    assert "new@example.com" not in str(list(AuditEvent.objects.values("after", "before")))


def test_verifying_the_sign_up_address_writes_one_event(client):
    person = UserFactory.create(username="uma", email="uma@example.com", email_verified=False)
    address = EmailAddress.objects.get(user=person)
    mail.outbox.clear()
    client.force_login(person)
    client.post("/accounts/email/", {"email": "uma@example.com", "action_send": ""})
    response = client.post(confirmation_path())
    assert response.status_code == 302
    address.refresh_from_db()
    assert address.verified
    assert corrections(person) == [("email.verified", person.pk, ["account.EmailAddress.verified"])]


def test_the_center_lists_the_persons_corrections_only(client, owner):
    other = UserFactory.create(username="other")
    officer = StaffFactory.create(role=StaffRole.PRIVACY_OFFICER)
    services.profile_update(user=owner, data=replace(BLANK, full_name="Ivan", address_city="Omsk"))
    services.profile_update(user=other, data=replace(BLANK, username="other", tax_id="7707"))
    # A correction staff made on the person's rectification request.
    services.correction_record(
        user=owner,
        actor=officer,
        action=AuditAction.PROFILE_CORRECTED,
        fields=["accounts.Profile.address_street"],
    )
    client.force_login(owner)
    html = client.get("/privacy/").content.decode()
    section = html[html.index('<section id="corrections">') :]
    section = " ".join(section[: section.index("</section>")].split())
    by_staff = (
        'Profile corrected<span class="helptext">Street and building</span></td> <td>By staff</td>'
    )
    by_you = 'Profile corrected<span class="helptext">Full name, City</span></td> <td>By you</td>'
    assert section.count("<tr>") == 3  # the header and the owner's two corrections
    assert 0 < section.index(by_staff) < section.index(by_you)
    assert "Tax id" not in section and "Corrections you made" in section


def test_the_center_names_the_fields_in_russian(client, owner):
    services.profile_update(user=owner, data=replace(BLANK, full_name="Иван"))
    client.force_login(owner)
    html = client.get("/privacy/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Ваши исправления" in html
    assert 'Профиль исправлен<span class="helptext">ФИО</span>' in html
    assert "Вами" in html


def test_without_corrections_the_center_says_so(client, owner):
    client.force_login(owner)
    assert "You have made no corrections yet." in client.get("/privacy/").content.decode()
