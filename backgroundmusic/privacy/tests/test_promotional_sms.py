"""Promotional text messages: a consent that needs a contact phone, stops when the phone goes, and
without which nothing is sent; the copies of messages under var/sms/ leave with the person and
with their period."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.utils import translation

from backgroundmusic.accounts import services
from backgroundmusic.accounts.models import Profile, User
from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.core import clock, sms
from backgroundmusic.core.errors import DomainError
from backgroundmusic.privacy import consents
from backgroundmusic.privacy.kernel.registry import Retentions
from backgroundmusic.privacy.models import (
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    DestructionRecord,
    DocumentKind,
    PolicyEdition,
)
from backgroundmusic.privacy.promotional_sms import (
    promotional_sms_consent_give,
    promotional_sms_send,
)
from backgroundmusic.privacy.retention import retention_run
from backgroundmusic.privacy.rights import erasure
from backgroundmusic.privacy.tasks import erase_account
from backgroundmusic.privacy.tests.test_consents_center import render_section

pytestmark = pytest.mark.django_db

SMS = ConsentPurpose.PROMOTIONAL_SMS
PHONE = "+79161234567"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BODY = "The spring collection is in the catalogue."


def with_phone(username: str, phone: str = PHONE) -> User:
    user = UserFactory.create(username=username)
    profile = Profile.objects.get(user=user)
    profile.phone = phone
    profile.save()
    return user


def profile_post(**overrides: str) -> dict[str, str]:
    return {
        "username": "owner",
        "full_name": "Ivan Petrov",
        "account_type": "natural",
        "language": "en",
        "phone": "8 (916) 123-45-67",
        "links-TOTAL_FORMS": "0",
        "links-INITIAL_FORMS": "0",
        "links-MIN_NUM_FORMS": "0",
        "links-MAX_NUM_FORMS": "20",
        **overrides,
    }


def ledger(user: User) -> list[tuple[str, str]]:
    return list(
        ConsentRecord.objects.filter(subject=user, purpose=SMS)
        .order_by("at", "pk")
        .values_list("action", "method")
    )


@pytest.fixture
def owner() -> User:
    return with_phone("owner")


def test_nothing_is_sent_without_the_consent(owner):
    assert promotional_sms_send(recipient=owner, body=BODY) is False
    assert sms.outbox == []


def test_exactly_one_message_goes_to_the_phone_with_the_consent(owner):
    promotional_sms_consent_give(subject=owner, method=ConsentMethod.PREFERENCE_CENTER)
    assert promotional_sms_send(recipient=owner, body=BODY) is True
    assert sms.outbox == [sms.SmsMessage(to=PHONE, body=BODY)]


def test_nothing_is_sent_while_processing_is_restricted(owner):
    promotional_sms_consent_give(subject=owner, method=ConsentMethod.PREFERENCE_CENTER)
    consents.restriction_start(subject=owner, method=ConsentMethod.PREFERENCE_CENTER)
    assert promotional_sms_send(recipient=owner, body=BODY) is False
    consents.restriction_lift(subject=owner, method=ConsentMethod.PREFERENCE_CENTER)
    assert promotional_sms_send(recipient=owner, body=BODY) is True
    assert sms.outbox == [sms.SmsMessage(to=PHONE, body=BODY)]


def test_nothing_is_sent_after_the_consent_is_withdrawn(owner):
    promotional_sms_consent_give(subject=owner, method=ConsentMethod.PREFERENCE_CENTER)
    consents.consent_withdraw(subject=owner, purpose=SMS, method=ConsentMethod.PREFERENCE_CENTER)
    assert promotional_sms_send(recipient=owner, body=BODY) is False
    assert sms.outbox == []


def test_nothing_is_sent_while_a_new_policy_edition_suspends_the_consent(owner):
    promotional_sms_consent_give(subject=owner, method=ConsentMethod.PREFERENCE_CENTER)
    now = clock.now()
    edition = PolicyEdition.objects.create(
        kind=DocumentKind.PRIVACY_POLICY,
        version="2",
        title_en="t",
        title_ru="t",
        body_en="b",
        body_ru="b",
        material_purposes=[SMS],
        content_hash="f" * 64,
        effective_at=now,
        published_at=now,
    )
    assert consents.consents_suspend_for_edition(edition=edition) == 1
    assert promotional_sms_send(recipient=owner, body=BODY) is False
    assert sms.outbox == []


def test_nothing_is_sent_to_a_person_without_a_phone_or_a_closed_account():
    # The ledger alone would allow it (the consent given before the phone could be checked).
    nobody = UserFactory.create(username="nophone")
    consents.consent_give(subject=nobody, purpose=SMS, method=ConsentMethod.FORM)
    assert promotional_sms_send(recipient=nobody, body=BODY) is False
    closed = with_phone("closed")
    promotional_sms_consent_give(subject=closed, method=ConsentMethod.FORM)
    User.objects.filter(pk=closed.pk).update(is_active=False)
    closed.refresh_from_db()
    assert promotional_sms_send(recipient=closed, body=BODY) is False
    assert sms.outbox == []


def test_the_consent_cannot_be_given_without_a_phone():
    nobody = UserFactory.create(username="nophone")
    with translation.override("ru"), pytest.raises(DomainError) as refused:
        promotional_sms_consent_give(subject=nobody, method=ConsentMethod.PREFERENCE_CENTER)
    assert refused.value.code == "needs_phone"
    assert refused.value.message == (
        "Сначала укажите контактный телефон в профиле: без номера SMS некуда отправлять."
    )
    assert ledger(nobody) == []


def test_the_privacy_center_refuses_it_without_a_phone_and_gives_it_with_one(client):
    nobody = UserFactory.create(username="nophone")
    client.force_login(nobody)
    html = client.get("/privacy/").content.decode()
    row = html[html.index(f'<tr id="consent-{SMS}">') :].split("</tr>")[0]
    assert "Promotional text messages to your phone" in row
    assert (
        'To allow it, first add a contact phone in <a href="/account/profile/">your profile</a>.'
        in row
    )
    response = client.post("/privacy/consents/", {"purpose": SMS, "action": "give"})
    assert response.status_code == 400
    assert (
        "Add a contact phone to your profile first: text messages need a number to go to."
        in response.content.decode()
    )
    assert ledger(nobody) == []

    owner = with_phone("owner")
    client.force_login(owner)
    html = client.get("/privacy/").content.decode()
    row = html[html.index(f'<tr id="consent-{SMS}">') :].split("</tr>")[0]
    assert "add a contact phone" not in row
    response = client.post("/privacy/consents/", {"purpose": SMS, "action": "give"})
    assert response["Location"] == "/privacy/#consents"
    assert ledger(owner) == [("given", "preference_center")]


def test_removing_the_phone_from_the_profile_withdraws_the_consent(client):
    owner = with_phone("owner")
    other = with_phone("other", "+74232223344")
    for person in (owner, other):
        promotional_sms_consent_give(subject=person, method=ConsentMethod.PREFERENCE_CENTER)
    client.force_login(owner)

    # A changed number keeps the consent: it is the person's phone that counts.
    response = client.post("/account/profile/", profile_post(phone="+7 925 765-43-21"))
    assert response.status_code == 302
    assert ledger(owner) == [("given", "preference_center")]
    response = client.post("/account/profile/", profile_post(phone=""))
    assert response.status_code == 302
    assert Profile.objects.get(user=owner).phone == ""
    assert ledger(owner) == [("given", "preference_center"), ("withdrawn", "form")]
    assert consents.consent_allows(subject=owner, purpose=SMS) is False
    assert promotional_sms_send(recipient=owner, body=BODY) is False
    # Nobody else's consent moved.
    assert ledger(other) == [("given", "preference_center")]
    assert consents.consent_allows(subject=other, purpose=SMS) is True


def test_the_section_explains_that_restriction_pauses_it(owner):
    promotional_sms_consent_give(subject=owner, method=ConsentMethod.PREFERENCE_CENTER)
    consents.restriction_start(subject=owner, method=ConsentMethod.PREFERENCE_CENTER)
    html = render_section("consents_section", owner)
    row = html[html.index(f'<tr id="consent-{SMS}">') :].split("</tr>")[0]
    assert "Paused while processing of your data is restricted." in row


@pytest.fixture
def file_backend(settings, tmp_path) -> Path:
    settings.SMS_BACKEND = "backgroundmusic.core.sms.FileSmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    return tmp_path / "sms"


def sent_to(folder: Path) -> list[str]:
    return sorted(
        path.read_text(encoding="utf-8").split("\n", 1)[0] for path in folder.glob("*.sms")
    )


def test_erasure_removes_the_person_s_messages_and_no_one_else_s(owner, file_backend):
    other = with_phone("other", "+74232223344")
    for person in (owner, other):
        promotional_sms_consent_give(subject=person, method=ConsentMethod.FORM)
        promotional_sms_send(recipient=person, body=BODY)
    # A message about the person to someone else's phone goes too.
    sms.send_sms(to="+74232223344", body=f"Please call {PHONE} back.")
    assert sent_to(file_backend) == ["To: +74232223344"] * 2 + [f"To: {PHONE}"]

    job = erasure.erasure_request(subject=owner, reason="privacy center")
    assert erase_account.call(job_id=job.pk) == "done"

    assert sent_to(file_backend) == ["To: +74232223344"]
    [record] = DestructionRecord.objects.all()
    assert record.counts["sms outbox"] == 2
    assert "user.contact.phone_number" in record.categories
    assert not Profile.objects.filter(user=owner).exists()


@pytest.mark.django_db(databases="__all__")  # the retention run prunes analytics too
def test_retention_removes_the_messages_past_their_period(owner, file_backend):
    period = timedelta(days=Retentions.TEXT_MESSAGE_COPIES.days)
    promotional_sms_consent_give(subject=owner, method=ConsentMethod.FORM)
    for when in (T0 - period - timedelta(seconds=1), T0 - period + timedelta(seconds=1)):
        with clock.frozen_at(when):
            promotional_sms_send(recipient=owner, body=BODY)
    (file_backend / "notes.txt").write_text("not a message")

    with clock.frozen_at(T0):
        report = retention_run()

    assert report.destroyed == {"sms outbox": 1}
    [kept] = file_backend.glob("*.sms")
    assert sms.sms_file_written_at(kept) == T0 - period + timedelta(seconds=1)
    assert (file_backend / "notes.txt").exists()
    [record] = DestructionRecord.objects.all()
    assert (record.counts, record.reason, record.categories) == (
        {"sms outbox": 1},
        "retention: sms outbox",
        ["user.contact.phone_number"],
    )
    with clock.frozen_at(T0):
        assert retention_run().destroyed == {}


def test_profile_update_stores_only_e164_and_refuses_an_unknown_language():
    owner = UserFactory.create(username="owner")
    data = services.ProfileData(
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
        phone="8 916 123 45 67",
        language="ru",
    )
    services.profile_update(user=owner, data=data)
    profile = Profile.objects.get(user=owner)
    assert (profile.phone, profile.language) == (PHONE, "ru")
    with pytest.raises(ValueError, match="unknown language"):
        services.profile_update(
            user=owner, data=services.ProfileData(**{**data.__dict__, "language": "de"})
        )
