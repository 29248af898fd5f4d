"""Double opt-in of the newsletter (privacy/optin.py): asking sends a link to the verified
address, the consent is in the ledger only after the POST of the link's page, with its evidence;
every failure writes nothing."""

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from backgroundmusic.accounts.models import Profile, User
from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.core import clock
from backgroundmusic.privacy import consents
from backgroundmusic.privacy.kernel.pseudonyms import address_digest
from backgroundmusic.privacy.models import (
    ConsentConfirmation,
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
)
from tests.smtp_server import SmtpServer

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=5)  # when the link is confirmed
NEWSLETTER = ConsentPurpose.NEWSLETTER
SUBJECT_EN = "BACKGROUND MUSIC: confirm that you want the newsletter"
SUBJECT_RU = "BACKGROUND MUSIC: подтвердите, что хотите получать рассылку"
PASSWORD = "a-long-password-1"
NEWSLETTER_WORDING = (
    "Newsletters and promotional e-mail. News about the catalogue and offers, by e-mail. Every "
    "message has a one-click unsubscribe link. Giving it sends a link to your verified address: "
    "the newsletter starts once you confirm there."
)


def ledger(user: User) -> list[tuple[str, str, str]]:
    return list(
        ConsentRecord.objects.filter(subject=user)
        .order_by("at", "pk")
        .values_list("purpose", "action", "method")
    )


def confirmations(user: User) -> list[tuple[object, ...]]:
    return list(
        ConsentConfirmation.objects.filter(subject=user)
        .order_by("pk")
        .values_list("requested_via", "requested_at", "address_hash", "sent_at", "confirmed_at")
    )


def run_queued_confirmations() -> list[str]:
    """Runs the queued confirmation mails as the worker would (one call each, marked done)."""
    results = []
    rows = DBTaskResult.objects.filter(
        status="READY", task_path__endswith=".send_consent_confirmation"
    )
    for row in rows.order_by("enqueued_at", "pk"):
        call = row.args_kwargs
        results.append(row.task.call(*call["args"], **call["kwargs"]))
        DBTaskResult.objects.filter(pk=row.pk).update(
            status="SUCCESSFUL", finished_at=timezone.now()
        )
    return results


def link_path(body: str) -> str:
    found = re.search(r"https?://[^/\s]+(/privacy/confirm/[^\s]+/)", body)
    assert found is not None, body
    return found.group(1)


def ask_in_center(client: Client, user: User) -> str:
    """Presses "Give" on the newsletter row at T0 and runs the mail job: the link's path."""
    client.force_login(user)
    with clock.frozen_at(T0):
        response = client.post("/privacy/consents/", {"purpose": "newsletter", "action": "give"})
        assert response.status_code == 302
        assert response["Location"] == "/privacy/#consents"
        assert run_queued_confirmations() == ["sent"]
    return link_path(str(mail.outbox[-1].body))


@pytest.fixture
def person() -> User:
    return UserFactory.create(username="nadia", email="nadia@example.com")


def test_the_consent_is_in_the_ledger_only_after_the_post_of_the_link(client, person):
    path = ask_in_center(client, person)
    # Asking wrote no consent: only the pending request, named by a keyed hash of the address.
    assert ledger(person) == []
    digest = address_digest(address="nadia@example.com")
    assert confirmations(person) == [("preference_center", T0, digest, T0, None)]
    [message] = mail.outbox
    assert (message.to, message.subject) == (["nadia@example.com"], SUBJECT_EN)
    assert "You asked us to send the BACKGROUND MUSIC newsletter to this address." in message.body
    assert "The link works once, until 2026-03-09 09:00 UTC." in message.body
    assert "nadia@example.com" not in str(ConsentConfirmation.objects.values().get())

    # Opening the link (as a mail scanner would) changes nothing.
    anonymous = Client()
    with clock.frozen_at(T1):
        page = anonymous.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-outcome="ready"' in html
    assert "Confirm: send me the newsletter" in html
    assert ledger(person) == []

    with clock.frozen_at(T1):
        confirmed = anonymous.post(path)
    assert confirmed.status_code == 200
    assert 'data-outcome="confirmed"' in confirmed.content.decode()
    [record] = ConsentRecord.objects.filter(subject=person)
    assert (record.purpose, record.action, record.method, record.at) == (
        "newsletter",
        "given",
        "email_confirmation",
        T1,
    )
    assert record.evidence == {
        "how": "double opt-in",
        "requested_at": T0.isoformat(),
        "requested_via": "preference_center",
        "sent_at": T0.isoformat(),
        "confirmed_at": T1.isoformat(),
        "address_hash": digest,
        "made_by": "person",
        "ip": "127.0.0.0",
        "browser": "unknown",
        "wording": NEWSLETTER_WORDING,
        "wording_sha256": hashlib.sha256(NEWSLETTER_WORDING.encode()).hexdigest(),
        "language": "en",
        "edition_version": "",
        "edition_hash": "",
    }
    assert confirmations(person) == [("preference_center", T0, digest, T0, T1)]
    assert consents.consent_allows(subject=person, purpose=NEWSLETTER)


def test_the_mail_is_in_the_language_of_the_persons_messages_not_of_the_page(client, person):
    Profile.objects.filter(user=person).update(language="ru")
    client.force_login(person)
    with clock.frozen_at(T0):
        client.post(
            "/privacy/consents/",
            {"purpose": "newsletter", "action": "give"},
            HTTP_ACCEPT_LANGUAGE="en",
        )
        run_queued_confirmations()
    [message] = mail.outbox
    assert message.subject == SUBJECT_RU
    assert "Вы попросили присылать рассылку BACKGROUND MUSIC на этот адрес." in message.body

    english = UserFactory.create(username="ned", email="ned@example.com")
    assert Profile.objects.get(user=english).language == "en"
    other = Client()
    other.force_login(english)
    other.cookies["django_language"] = "ru"
    with clock.frozen_at(T0):
        response = other.post(
            "/privacy/consents/",
            {"purpose": "newsletter", "action": "give"},
            HTTP_ACCEPT_LANGUAGE="ru",
        )
        assert response.status_code == 302
        assert run_queued_confirmations() == ["sent"]
    assert [message.subject for message in mail.outbox] == [SUBJECT_RU, SUBJECT_EN]


def test_the_link_goes_to_the_verified_primary_address_only(client, person):
    EmailAddress.objects.create(user=person, email="unverified@example.com", verified=False)
    ask_in_center(client, person)
    assert [message.to for message in mail.outbox] == [["nadia@example.com"]]


def test_without_a_verified_address_nothing_is_sent_and_the_center_says_why(client):
    person = UserFactory.create(username="uma", email="uma@example.com", email_verified=False)
    client.force_login(person)
    html = client.get("/privacy/").content.decode()
    assert "We send the newsletter only to a verified address" in html
    assert 'href="/accounts/email/">Verify your e-mail address</a>' in html
    assert 'Give<span class="visually-hidden"> — Newsletters' not in html

    response = client.post("/privacy/consents/", {"purpose": "newsletter", "action": "give"})
    assert response.status_code == 400
    assert "Verify your e-mail address first" in response.content.decode()
    assert (confirmations(person), ledger(person), run_queued_confirmations()) == ([], [], [])
    assert mail.outbox == []


def test_the_center_shows_the_link_waiting_and_offers_to_send_it_again(client, person):
    ask_in_center(client, person)
    with clock.frozen_at(T0 + timedelta(minutes=5)):
        html = client.get("/privacy/").content.decode()
    assert "Waiting for your confirmation" in html
    assert (
        "We sent a confirmation link to your e-mail address on 2026-03-02 09:00. The newsletter "
        "starts once you confirm." in html
    )
    assert "Send again" in html
    with clock.frozen_at(T0 + timedelta(minutes=10)):
        client.post("/privacy/consents/", {"purpose": "newsletter", "action": "give"})
        assert run_queued_confirmations() == ["sent"]
    assert len(mail.outbox) == 2
    assert ledger(person) == []
    # Past the link's 7 days nothing waits any more: the row offers "Give" again.
    with clock.frozen_at(T0 + timedelta(days=8)):
        html = client.get("/privacy/").content.decode()
    assert "Waiting for your confirmation" not in html
    assert "Send again" not in html


def test_asking_again_is_rate_limited(client, person, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "consent_confirmation": {"person": "2/h"}}
    client.force_login(person)
    with clock.frozen_at(T0):
        for _ in range(2):
            response = client.post(
                "/privacy/consents/", {"purpose": "newsletter", "action": "give"}
            )
            assert response.status_code == 302
        refused = client.post("/privacy/consents/", {"purpose": "newsletter", "action": "give"})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert ConsentConfirmation.objects.filter(subject=person).count() == 2


def test_asking_while_restricted_is_refused_and_sends_nothing(client, person):
    consents.restriction_start(subject=person, method=ConsentMethod.PREFERENCE_CENTER)
    client.force_login(person)
    response = client.post("/privacy/consents/", {"purpose": "newsletter", "action": "give"})
    assert response.status_code == 400
    assert "Processing of your data is restricted, so we send no newsletters." in (
        response.content.decode()
    )
    assert (confirmations(person), run_queued_confirmations(), mail.outbox) == ([], [], [])


def test_withdrawing_stays_one_click(client, person):
    path = ask_in_center(client, person)
    with clock.frozen_at(T1):
        Client().post(path)
    with clock.frozen_at(T1 + timedelta(hours=1)):
        client.post("/privacy/consents/", {"purpose": "newsletter", "action": "withdraw"})
    assert ledger(person) == [
        ("newsletter", "given", "email_confirmation"),
        ("newsletter", "withdrawn", "preference_center"),
    ]


def snapshot() -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    return (
        list(ConsentRecord.objects.order_by("pk").values_list()),
        list(ConsentConfirmation.objects.order_by("pk").values_list()),
    )


def assert_refused(path: str, *, at: datetime, status: int, outcome: str, text: str) -> None:
    """GET and POST of the link both answer the failure page and change nothing."""
    before = snapshot()
    anonymous = Client()
    with clock.frozen_at(at):
        for response in (anonymous.get(path), anonymous.post(path)):
            html = response.content.decode()
            assert response.status_code == status
            assert f'data-outcome="{outcome}"' in html
            assert text in html
            assert "Confirm: send me the newsletter" not in html
    assert snapshot() == before


def test_a_tampered_link_changes_nothing(client, person):
    path = ask_in_center(client, person)
    token = path.split("/")[3]
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert_refused(
        f"/privacy/confirm/{altered}/",
        at=T1,
        status=400,
        outcome="invalid",
        text="This link is not valid",
    )
    assert_refused(
        "/privacy/confirm/not-a-token/", at=T1, status=400, outcome="invalid", text="not valid"
    )
    assert ledger(person) == []


def test_an_expired_link_changes_nothing(client, person):
    path = ask_in_center(client, person)
    assert_refused(
        path,
        at=T0 + timedelta(days=7),
        status=410,
        outcome="expired",
        text="This link has expired: links work for 7 days.",
    )
    assert ledger(person) == []


def test_a_used_link_changes_nothing_the_second_time(client, person):
    path = ask_in_center(client, person)
    with clock.frozen_at(T1):
        assert Client().post(path).status_code == 200
    consents.consent_withdraw(subject=person, purpose=NEWSLETTER, method="preference_center")
    assert_refused(
        path,
        at=T1 + timedelta(hours=1),
        status=410,
        outcome="used",
        text="This link was already used",
    )
    assert ledger(person) == [
        ("newsletter", "given", "email_confirmation"),
        ("newsletter", "withdrawn", "preference_center"),
    ]


def test_a_link_to_an_address_that_is_no_longer_the_verified_one_changes_nothing(client, person):
    path = ask_in_center(client, person)
    EmailAddress.objects.filter(user=person).update(primary=False)
    EmailAddress.objects.create(user=person, email="nadia@new.example", primary=True, verified=True)
    assert_refused(
        path,
        at=T1,
        status=410,
        outcome="address_changed",
        text="no longer the verified address of the account",
    )
    assert ledger(person) == []


def test_a_link_is_not_mailed_when_the_address_changed_before_the_job_ran(client, person):
    client.force_login(person)
    with clock.frozen_at(T0):
        client.post("/privacy/consents/", {"purpose": "newsletter", "action": "give"})
    EmailAddress.objects.filter(user=person).update(email="nadia@new.example")
    with clock.frozen_at(T0):
        assert run_queued_confirmations() == ["address_changed"]
    assert mail.outbox == []


def test_a_link_for_a_consent_already_given_says_so_and_writes_nothing(client, person):
    first = ask_in_center(client, person)
    with clock.frozen_at(T0 + timedelta(minutes=1)):
        client.post("/privacy/consents/", {"purpose": "newsletter", "action": "give"})
        run_queued_confirmations()
    second = link_path(str(mail.outbox[-1].body))
    assert second != first
    with clock.frozen_at(T1):
        Client().post(second)
    before = snapshot()
    with clock.frozen_at(T1 + timedelta(minutes=1)):
        response = Client().post(first)
    assert response.status_code == 200
    assert "You already receive our newsletter" in response.content.decode()
    assert snapshot() == before
    assert ledger(person) == [("newsletter", "given", "email_confirmation")]


def test_a_restricted_person_cannot_confirm(client, person):
    path = ask_in_center(client, person)
    consents.restriction_start(subject=person, method=ConsentMethod.PREFERENCE_CENTER)
    assert_refused(
        path,
        at=T1,
        status=409,
        outcome="restricted",
        text="Lift the restriction in the privacy center first",
    )
    assert ledger(person) == []


def test_a_link_of_a_closed_account_changes_nothing(client, person):
    path = ask_in_center(client, person)
    User.objects.filter(pk=person.pk).update(is_active=False)
    assert_refused(path, at=T1, status=400, outcome="invalid", text="This link is not valid")


def test_signed_in_as_someone_else_the_link_confirms_for_its_own_person_only(client, person):
    path = ask_in_center(client, person)
    stranger = UserFactory.create(username="oskar")
    other = Client()
    other.force_login(stranger)
    with clock.frozen_at(T1):
        shown = other.get(path).content.decode()
        confirmed = other.post(path).content.decode()
    for html in (shown, confirmed):
        assert "You are signed in with another account." in html
    assert 'data-outcome="confirmed"' in confirmed
    assert ledger(person) == [("newsletter", "given", "email_confirmation")]
    assert ledger(stranger) == []


def test_the_mail_job_sends_once_when_run_again(client, person):
    client.force_login(person)
    with clock.frozen_at(T0):
        client.post("/privacy/consents/", {"purpose": "newsletter", "action": "give"})
    [row] = DBTaskResult.objects.filter(task_path__endswith=".send_consent_confirmation")
    call = row.args_kwargs
    with clock.frozen_at(T0):
        assert row.task.call(*call["args"], **call["kwargs"]) == "sent"
        assert row.task.call(*call["args"], **call["kwargs"]) == "sent"
    assert len(mail.outbox) == 1


# Sign-up


SIGN_UP = {
    "username": "signer",
    "email": "signer@example.com",
    "password1": PASSWORD,
    "password2": PASSWORD,
    "agreement": "on",
}


def test_the_sign_up_box_is_optional_and_never_ticked(client):
    html = client.get("/accounts/signup/").content.decode()
    assert (
        '<label for="id_newsletter">Send me the newsletter:</label>\n    <input type="checkbox" '
        'name="newsletter" aria-describedby="id_newsletter_helptext" id="id_newsletter">' in html
    )
    assert (
        "Optional. Once you have confirmed your e-mail address, we send one more message with a "
        "link: the newsletter starts only when you confirm there. You can stop it at any time."
        in html
    )
    assert html.index('id="id_agreement"') < html.index('id="id_newsletter"')


def test_sign_up_without_the_box_asks_for_nothing(client):
    assert client.post("/accounts/signup/", SIGN_UP).status_code == 302
    user = User.objects.get(username="signer")
    assert (confirmations(user), ledger(user)) == ([], [])


def test_the_sign_up_box_sends_the_link_once_the_address_is_verified(client):
    with clock.frozen_at(T0):
        response = client.post("/accounts/signup/", {**SIGN_UP, "newsletter": "on"})
    assert response.status_code == 302
    user = User.objects.get(username="signer")
    # Only the address's verification goes out now; the request waits for it.
    assert confirmations(user) == [("form", T0, "", None, None)]
    assert [message.subject for message in mail.outbox] == [
        "BACKGROUND MUSIC: Please Confirm Your Email Address"
    ]
    assert run_queued_confirmations() == []
    verify = re.search(
        r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", str(mail.outbox[0].body)
    )
    assert verify is not None

    with clock.frozen_at(T0 + timedelta(hours=1)):
        assert client.post(verify.group(1)).status_code == 302
        assert run_queued_confirmations() == ["sent"]
    digest = address_digest(address="signer@example.com")
    assert confirmations(user) == [("form", T0, digest, T0 + timedelta(hours=1), None)]
    optin_mail = mail.outbox[-1]
    assert (optin_mail.to, optin_mail.subject) == (["signer@example.com"], SUBJECT_EN)
    assert ledger(user) == []

    with clock.frozen_at(T1):
        assert Client().post(link_path(str(optin_mail.body))).status_code == 200
    [record] = ConsentRecord.objects.filter(subject=user)
    assert (record.method, record.at) == ("email_confirmation", T1)
    assert record.evidence == {
        "how": "double opt-in",
        "requested_at": T0.isoformat(),
        "requested_via": "form",
        "sent_at": (T0 + timedelta(hours=1)).isoformat(),
        "confirmed_at": T1.isoformat(),
        "address_hash": digest,
        "made_by": "person",
        "ip": "127.0.0.0",
        "browser": "unknown",
        "wording": NEWSLETTER_WORDING,
        "wording_sha256": hashlib.sha256(NEWSLETTER_WORDING.encode()).hexdigest(),
        "language": "en",
        "edition_version": "",
        "edition_hash": "",
    }


def test_the_link_goes_through_a_real_smtp_server(client, person, smtp_server: SmtpServer):
    client.force_login(person)
    with clock.frozen_at(T0):
        client.post("/privacy/consents/", {"purpose": "newsletter", "action": "give"})
        assert run_queued_confirmations() == ["sent"]
    [received] = smtp_server.wait_for(1)
    assert received.rcpt_tos == ["nadia@example.com"]
    assert received.subject == SUBJECT_EN
    [link] = received.links
    path = re.sub(r"^https?://[^/]+", "", link)
    assert ledger(person) == []
    with clock.frozen_at(T1):
        assert Client().post(path).status_code == 200
    assert ledger(person) == [("newsletter", "given", "email_confirmation")]
