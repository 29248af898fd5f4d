"""The newsletter's confirmation link through a real SMTP server (aiosmtpd, tests/conftest.py):
the message as received, its link, and the consent written by the link's page."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.core import clock
from backgroundmusic.privacy.tests.test_optin import ledger, run_queued_confirmations
from tests.conftest import SmtpServer

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=5)


@pytest.fixture
def person() -> User:
    return UserFactory.create(username="nadia", email="nadia@example.com")


def test_the_link_goes_through_a_real_smtp_server(client, person, smtp_server: SmtpServer):
    client.force_login(person)
    with clock.frozen_at(T0):
        client.post("/privacy/consents/", {"purpose": "newsletter", "action": "give"})
        assert run_queued_confirmations() == ["sent"]
    [received] = smtp_server.wait_for(1)
    assert received.rcpt_tos == ["nadia@example.com"]
    assert received.subject == "BACKGROUND MUSIC: confirm that you want the newsletter"
    [link] = received.links
    path = re.sub(r"^https?://[^/]+", "", link)
    assert ledger(person) == []
    with clock.frozen_at(T1):
        assert Client().post(path).status_code == 200
    assert ledger(person) == [("newsletter", "given", "email_confirmation")]
