"""Requests by e-mail end to end, with real servers: the letter waits in a dovecot IMAP mailbox,
the inbox reads it, the confirmation goes out over SMTP (aiosmtpd) to the account's verified
address, the person posts the link, and a privacy officer's erase action erases the account."""

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import Client

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.inbox import readers
from backgroundmusic.inbox.models import InboundMessage, Outcome
from backgroundmusic.inbox.tests.dovecot import Dovecot, dovecot_running
from backgroundmusic.inbox.tests.letters import letter
from backgroundmusic.privacy import consents
from backgroundmusic.privacy import requests as dsr
from backgroundmusic.privacy.models import (
    ConsentMethod,
    ConsentPurpose,
    DataSubjectRequest,
    ErasureJob,
    RequestKind,
)
from backgroundmusic.privacy.tests.test_export import run_queued
from backgroundmusic.staffroles.roles import StaffRole
from tests.destinations import declare_destination

pytestmark = pytest.mark.django_db


@pytest.fixture
def dovecot(settings) -> Iterator[Dovecot]:
    with dovecot_running() as server:
        settings.INBOX_READER = "imap"
        settings.INBOX_IMAP_URL = server.url
        declare_destination(settings, host=server.host, port=server.port, purpose="mailbox")
        yield server


def test_an_unsubscribe_email_withdraws_the_newsletter_consent(dovecot):
    person = UserFactory.create(username="listener")
    consents.consent_give(
        subject=person, purpose=ConsentPurpose.NEWSLETTER, method=ConsentMethod.FORM
    )
    dovecot.deliver(letter(sender=person.email, to=settings.UNSUBSCRIBE_ADDRESS, subject="stop"))

    assert readers.inbox_read() == 1

    assert not consents.consent_allows(subject=person, purpose=ConsentPurpose.NEWSLETTER)
    assert InboundMessage.objects.get().outcome == Outcome.UNSUBSCRIBED


def test_a_deletion_request_by_email_is_confirmed_by_its_link_and_erases_the_account(
    dovecot, smtp_server
):
    person = UserFactory.create(username="leaving")
    officer = StaffFactory.create(username="officer", role=StaffRole.PRIVACY_OFFICER)
    dovecot.deliver(
        letter(
            sender=f"Leaving Person <{person.email}>",
            subject="Удалите мой аккаунт",
            body="Прошу удалить все мои данные.",
        )
    )

    assert readers.inbox_read() == 1
    assert dovecot.unseen() == 0

    # In the staff inbox, with its deadlines, not yet linked to the account.
    [entry] = dsr.requests_inbox()
    request = entry.request
    assert (request.kind, request.channel, request.subject_id, request.requester_contact) == (
        RequestKind.ERASURE,
        DataSubjectRequest.Channel.EMAIL,
        None,
        person.email,
    )
    assert not entry.deadlines.overdue
    assert dsr.request_actions_available(request=request) == ()

    # The link goes to the account's verified address over SMTP.
    assert run_queued("send_request_confirmation") == ["sent"]
    [sent] = smtp_server.wait_for(1)
    assert sent.rcpt_tos == [person.email]
    [link] = [found for found in sent.links if "/privacy/requests/confirm/" in found]
    path = link.removeprefix(settings.SITE_URL.rstrip("/"))

    browser = Client()
    assert browser.get(path).status_code == 200
    assert browser.post(path).status_code == 200

    request.refresh_from_db()
    assert (request.subject_id, request.identity) == (
        person.pk,
        DataSubjectRequest.Identity.VERIFIED,
    )
    assert dsr.request_actions_available(request=request) == (dsr.RequestAction.ERASE,)

    # The privacy officer erases the account through the existing request action.
    job = dsr.request_act(actor=officer, request=request, action=dsr.RequestAction.ERASE)
    assert isinstance(job, ErasureJob)
    assert run_queued("erase_account") == ["done"]
    erased = User.objects.get(pk=person.pk)
    assert not erased.is_active and erased.email != person.email
    request.refresh_from_db()
    assert (request.subject_id, request.requester_contact) == (None, "")
    message = InboundMessage.objects.get()
    assert (message.subject_id, message.request_id, message.sender_digest) == (None, None, None)
    assert message.outcome == Outcome.CONFIRMED
