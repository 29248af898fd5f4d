import base64
import json
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail

from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.audit.models import AuditAction, AuditEvent
from backgroundmusic.core import clock
from backgroundmusic.inbox import readers, services
from backgroundmusic.inbox.models import InboundMessage, InboundRawMessage, Mailbox, Outcome
from backgroundmusic.inbox.readers import MaildirReader
from backgroundmusic.inbox.tests.letters import delivery_report, letter
from backgroundmusic.mailing.models import Suppression, SuppressionReason
from backgroundmusic.privacy import consents
from backgroundmusic.privacy.kernel.pseudonyms import address_digest
from backgroundmusic.privacy.models import (
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    DataSubjectRequest,
    RequestKind,
)
from backgroundmusic.privacy.requests import CONFIRMED_BY_LINK_REASON
from backgroundmusic.privacy.retention import retention_run
from backgroundmusic.privacy.tests.test_export import run_queued

pytestmark = pytest.mark.django_db


def subscribed(username: str = "reader"):
    user = UserFactory.create(username=username)
    consents.consent_give(
        subject=user, purpose=ConsentPurpose.NEWSLETTER, method=ConsentMethod.FORM
    )
    return user


def newsletter_allowed(user) -> bool:
    return consents.consent_allows(subject=user, purpose=ConsentPurpose.NEWSLETTER)


def record(raw: bytes) -> InboundMessage:
    return services.inbound_record(raw=raw, received_at=clock.now())


def test_an_unsubscribe_letter_over_imap_withdraws_the_consent_and_is_marked_read(dovecot):
    user = subscribed()
    dovecot.deliver(letter(sender="Reader <READER@example.com>", to=settings.UNSUBSCRIBE_ADDRESS))

    assert readers.inbox_read() == 1

    assert not newsletter_allowed(user)
    latest = ConsentRecord.objects.filter(subject_id=user.pk).order_by("-pk").first()
    assert latest is not None and latest.method == ConsentMethod.INBOUND_EMAIL
    [message] = InboundMessage.objects.all()
    assert (message.mailbox, message.outcome, message.subject_id) == (
        Mailbox.UNSUBSCRIBE,
        Outcome.UNSUBSCRIBED,
        user.pk,
    )
    assert message.sender_digest == address_digest(address="reader@example.com")
    assert dovecot.unseen() == 0
    assert readers.inbox_read() == 0
    assert mail.outbox == []  # nothing is ever answered to an unsubscribe


def test_an_imap_letter_recorded_before_a_crash_is_recorded_once_when_read_again(dovecot):
    user = subscribed()
    dovecot.deliver(letter(sender="reader@example.com", to=settings.UNSUBSCRIBE_ADDRESS))
    reader = readers.reader_configured()
    assert reader is not None

    def record_then_crash(raw, arrived):
        services.inbound_record(raw=raw, received_at=arrived)
        raise RuntimeError("killed before the letter was marked read")

    with pytest.raises(RuntimeError):
        reader.read(record_then_crash)
    assert dovecot.unseen() == 1

    assert readers.inbox_read() == 1
    assert InboundMessage.objects.count() == 1
    assert ConsentRecord.objects.filter(subject_id=user.pk).count() == 2  # given, withdrawn
    assert dovecot.unseen() == 0


def test_unsubscribe_from_an_unknown_or_unverified_address_changes_nothing(settings):
    user = subscribed()
    other = UserFactory.create(username="unverified", email_verified=False)
    for sender in ("stranger@example.com", other.email):
        message = record(letter(sender=sender, to=settings.UNSUBSCRIBE_ADDRESS))
        assert (message.outcome, message.subject_id) == (Outcome.UNKNOWN_SENDER, None)
    assert newsletter_allowed(user)
    assert mail.outbox == []


def test_a_tagged_copy_of_the_unsubscribe_address_is_that_address(settings):
    user = subscribed()
    local, domain = settings.UNSUBSCRIBE_ADDRESS.split("@")
    message = record(letter(sender=user.email, to=f"{local}+n42@{domain}"))
    assert message.outcome == Outcome.UNSUBSCRIBED


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Precedence": "bulk"},
        {"X-Autoreply": "yes"},
    ],
)
def test_automatic_replies_are_ignored(settings, headers):
    user = subscribed()
    for to in (settings.UNSUBSCRIBE_ADDRESS, settings.PRIVACY_ADDRESS):
        message = record(letter(sender=user.email, to=to, subject="Delete", headers=headers))
        assert message.outcome == Outcome.IGNORED_AUTO_REPLY
    assert newsletter_allowed(user)
    assert not DataSubjectRequest.objects.exists()
    assert mail.outbox == []


def test_a_letter_to_none_of_our_addresses_is_ignored():
    user = subscribed()
    message = record(letter(sender=user.email, to="someone@elsewhere.example"))
    assert (message.mailbox, message.outcome) == (Mailbox.OTHER, Outcome.IGNORED_NOT_OURS)


def test_a_request_from_an_unknown_sender_is_logged_for_staff_and_not_answered():
    arrived = clock.now() - timedelta(hours=3)
    raw = letter(sender="Anna <anna@example.org>", subject="Удалите мои данные")
    message = services.inbound_record(raw=raw, received_at=arrived)

    assert message.outcome == Outcome.REQUEST_LOGGED
    request = DataSubjectRequest.objects.get()
    assert message.request_id == request.pk
    assert (request.kind, request.channel, request.received_at, request.subject_id) == (
        RequestKind.ERASURE,
        DataSubjectRequest.Channel.EMAIL,
        arrived,
        None,
    )
    assert request.requester_contact == "anna@example.org"
    assert request.due_ru > arrived.date() and request.due_gdpr > arrived.date()
    logged = AuditEvent.objects.get(action=AuditAction.REQUEST_LOGGED)
    assert logged.actor_id is None
    assert run_queued("send_request_confirmation") == []
    assert mail.outbox == []


def test_a_request_from_a_verified_address_is_confirmed_by_the_link_sent_there(client):
    user = UserFactory.create(username="writer")
    message = record(letter(sender=user.email.upper(), subject="Access", body="A copy, please"))
    assert message.outcome == Outcome.CONFIRMATION_SENT
    assert message.request is not None
    assert (message.subject_id, message.request.subject_id) == (user.pk, None)

    assert run_queued("send_request_confirmation") == ["sent"]
    [sent] = mail.outbox
    assert sent.to == [user.email]
    assert f"#{message.request_id}" in sent.subject
    link = next(word for word in sent.body.split() if "/privacy/requests/confirm/" in word)
    path = link.removeprefix(settings.SITE_URL.rstrip("/"))
    assert run_queued("send_request_confirmation") == []  # the job ran once

    page = client.get(path)
    assert page.status_code == 200
    request = DataSubjectRequest.objects.get()
    assert request.subject_id is None  # a GET (a mail scanner's) changes nothing

    done = client.post(path)
    assert done.status_code == 200
    assert b"confirm-request-done" in done.content
    request.refresh_from_db()
    assert (request.subject_id, request.identity) == (
        user.pk,
        DataSubjectRequest.Identity.VERIFIED,
    )
    steps = AuditEvent.objects.filter(target_id=str(request.pk)).order_by("pk")
    assert [(e.action, e.actor_id, e.reason) for e in steps] == [
        (AuditAction.REQUEST_LOGGED, None, ""),
        (AuditAction.REQUEST_SUBJECT_LINKED, None, CONFIRMED_BY_LINK_REASON),
        (AuditAction.REQUEST_IDENTITY_VERIFIED, None, CONFIRMED_BY_LINK_REASON),
    ]
    message.refresh_from_db()
    assert message.outcome == Outcome.CONFIRMED
    assert client.post(path).status_code == 200  # again: nothing more happens
    assert AuditEvent.objects.filter(target_id=str(request.pk)).count() == 3


def test_a_confirmation_link_expires_and_a_forged_one_is_refused(client):
    user = UserFactory.create(username="late")
    message = record(letter(sender=user.email, subject="delete my account"))
    path = f"/privacy/requests/confirm/{services.confirmation_token(message=message)}/"
    with time_machine.travel(clock.now() + timedelta(days=8)):
        response = client.post(path)
    assert response.status_code == 410
    assert b"expired" in response.content
    assert client.post("/privacy/requests/confirm/forged/").status_code == 410
    assert DataSubjectRequest.objects.get().identity == DataSubjectRequest.Identity.UNVERIFIED


def test_a_delivery_report_is_recorded_as_a_bounce_and_suppresses_the_address():
    message = record(delivery_report(failed="Gone@Example.com"))
    assert (message.mailbox, message.outcome) == (Mailbox.BOUNCE, Outcome.BOUNCE)
    assert list(Suppression.objects.values_list("address_digest", "reason")) == [
        (address_digest(address="gone@example.com"), SuppressionReason.HARD_BOUNCE)
    ]


def test_a_forged_delivery_report_suppresses_nothing():
    message = record(delivery_report(failed="victim@example.com", tag_of="forger@example.com"))
    assert (message.mailbox, message.outcome) == (Mailbox.BOUNCE, Outcome.BOUNCE)
    assert not Suppression.objects.exists()


def test_a_delay_report_suppresses_nothing():
    message = record(delivery_report(failed="slow@example.com", status="4.4.1", action="delayed"))
    assert (message.mailbox, message.outcome) == (Mailbox.BOUNCE, Outcome.BOUNCE)
    assert not Suppression.objects.exists()


def test_a_report_sent_to_another_address_suppresses_nothing(settings):
    raw = delivery_report(failed="gone@example.com").replace(
        settings.BOUNCE_ADDRESS.encode(), settings.PRIVACY_ADDRESS.encode()
    )
    message = record(raw)
    assert (message.mailbox, message.outcome) == (Mailbox.PRIVACY, Outcome.BOUNCE)
    assert not Suppression.objects.exists()


@pytest.mark.django_db(databases="__all__")  # the retention run prunes analytics too
def test_the_letter_is_kept_sealed_and_leaves_with_the_retention_run():
    raw = letter(sender="anna@example.org", body="My phone is 555-0199")
    message = record(raw)
    kept = InboundRawMessage.objects.get(message=message)
    assert b"555-0199" not in kept.sealed.encode()
    assert services.raw_letter(message=message) == raw
    with time_machine.travel(clock.now() + timedelta(days=31)):
        retention_run()
    assert not InboundRawMessage.objects.exists()
    message.refresh_from_db()
    assert message.outcome == Outcome.REQUEST_LOGGED  # the record stays a year


def test_the_maildir_reader_reads_new_letters_and_moves_them_to_cur(settings, tmp_path):
    user = subscribed()
    folder = tmp_path / "inbox"
    (folder / "new").mkdir(parents=True)
    (folder / "new" / "1733300000.M1P1.host").write_bytes(
        letter(sender=user.email, to=settings.UNSUBSCRIBE_ADDRESS)
    )
    (folder / "new" / "1733300001.M2P1.host").write_bytes(b"\x00\xff not a letter")
    settings.INBOX_READER = "maildir"
    settings.INBOX_MAILDIR = folder

    assert readers.inbox_read() == 2

    assert sorted(p.name for p in (folder / "cur").iterdir()) == [
        "1733300000.M1P1.host:2,S",
        "1733300001.M2P1.host:2,S",
    ]
    assert list((folder / "new").iterdir()) == []
    assert sorted(InboundMessage.objects.values_list("outcome", flat=True)) == [
        Outcome.REJECTED_MALFORMED,
        Outcome.UNSUBSCRIBED,
    ]
    assert readers.inbox_read() == 0


def test_a_maildir_letter_recorded_before_a_crash_is_recorded_once(tmp_path):
    folder = tmp_path / "inbox"
    (folder / "new").mkdir(parents=True)
    (folder / "new" / "a").write_bytes(letter(sender="x@example.org"))
    reader = MaildirReader(folder)

    def record_then_crash(raw, arrived):
        services.inbound_record(raw=raw, received_at=arrived)
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        reader.read(record_then_crash)
    assert (folder / "new" / "a").exists()
    assert reader.read(lambda raw, arrived: record(raw)) == 1
    assert InboundMessage.objects.count() == DataSubjectRequest.objects.count() == 1


def test_a_provider_posts_a_letter_to_the_inbound_webhook(client, settings):
    settings.INBOX_READER = "webhook"
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:secret-words"}
    user = subscribed()
    raw = letter(sender=user.email, to=settings.UNSUBSCRIBE_ADDRESS)
    body = json.dumps({"RawEmail": raw.decode(), "FromFull": {"Email": user.email}})
    wrong = client.post(
        "/anymail/postmark/inbound/",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"hook:guess").decode(),
    )
    assert wrong.status_code == 400
    assert newsletter_allowed(user)

    response = client.post(
        "/anymail/postmark/inbound/",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"hook:secret-words").decode(),
    )

    assert response.status_code == 200
    assert InboundMessage.objects.get().outcome == Outcome.UNSUBSCRIBED
    assert not newsletter_allowed(user)


def test_the_confirmation_is_written_in_the_language_of_the_persons_messages():
    from backgroundmusic.accounts.models import Profile

    user = UserFactory.create(username="pishet")
    Profile.objects.filter(user=user).update(language="ru")
    message = record(letter(sender=user.email, subject="Прошу удалить аккаунт"))
    assert run_queued("send_request_confirmation") == ["sent"]
    [sent] = mail.outbox
    assert sent.subject == (
        f"Подтвердите обращение №{message.request_id} о ваших персональных данных"
    )
    assert "(Удаление данных)" in sent.body


def test_kept_letters_are_resealed_under_the_new_master_key(settings):
    from backgroundmusic.privacy.kernel import crypto

    raw = letter(sender="anna@example.org")
    message = record(raw)
    old = crypto.master_key_ring().current_id
    new_key = base64.urlsafe_b64encode(b"n" * 32).decode()
    settings.DATA_MASTER_KEYS = f"k9:{new_key},{settings.DATA_MASTER_KEYS}"

    assert services.raw_letters_reseal() == 1

    sealed = InboundRawMessage.objects.get(message=message).sealed
    assert crypto.master_token_key_id(sealed) == "k9" != old
    assert services.raw_letter(message=message) == raw
    assert services.raw_letters_reseal() == 0
