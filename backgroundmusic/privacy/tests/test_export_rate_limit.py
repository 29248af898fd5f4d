"""Asking for data exports is limited per person and per address (settings.RATE_LIMITS): the
request over the limit gets 429 with Retry-After and makes no export, job or e-mail."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import translation

from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.privacy.models import DataExport
from backgroundmusic.privacy.tests.test_export import queued, reauthenticate, run_queued

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
HOME = "203.0.113.77"
ELSEWHERE = "198.51.100.20"


def ask(client: Client, address: str = HOME):
    return client.post("/privacy/export/", REMOTE_ADDR=address)


def exports_of(user) -> int:
    return DataExport.objects.filter(subject=user).count()


def test_the_fourth_export_in_an_hour_is_refused_until_the_window_ends():
    with time_machine.travel(START, tick=False) as traveller:
        owner = UserFactory.create(username="owner")
        client = reauthenticate(Client(), owner)
        for made in range(1, 4):
            response = ask(client)
            assert (response.status_code, response["Location"]) == (302, "/privacy/#data")
            run_queued("build_data_export")  # built and e-mailed, so the next ask makes another
            assert (exports_of(owner), len(mail.outbox)) == (made, made)

        refused = ask(client)

        assert refused.status_code == 429
        retry_after = int(refused["Retry-After"])
        assert 1 <= retry_after <= 3600
        assert "Too many requests" in refused.content.decode()
        assert (exports_of(owner), queued("build_data_export"), len(mail.outbox)) == (3, [], 3)

        # Another address does not help the same person.
        assert ask(client, ELSEWHERE).status_code == 429

        traveller.shift(timedelta(seconds=retry_after - 1))
        reauthenticate(client, owner)
        assert ask(client).status_code == 429
        assert exports_of(owner) == 3

        traveller.shift(timedelta(seconds=1))
        reauthenticate(client, owner)
        assert ask(client).status_code == 302
        assert exports_of(owner) == 4
        assert len(queued("build_data_export")) == 1


def test_another_person_at_the_same_address_is_not_limited_by_the_first():
    with time_machine.travel(START, tick=False):
        owner, other = UserFactory.create(username="owner"), UserFactory.create(username="other")
        owner_client = reauthenticate(Client(), owner)
        for _ in range(3):
            assert ask(owner_client).status_code == 302
            run_queued("build_data_export")
        assert ask(owner_client).status_code == 429

        response = ask(reauthenticate(Client(), other))

        assert response.status_code == 302
        assert exports_of(other) == 1


def test_the_address_limit_counts_every_person_at_that_address(settings):
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "data_export": {"person": "3/h", "address": "2/h"},
    }
    with time_machine.travel(START, tick=False):
        first, second, third = (UserFactory.create(username=f"person{n}") for n in range(3))
        assert ask(reauthenticate(Client(), first)).status_code == 302
        assert ask(reauthenticate(Client(), second)).status_code == 302

        refused = ask(reauthenticate(Client(), third))
        elsewhere = ask(reauthenticate(Client(), third), ELSEWHERE)

    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 3600
    assert elsewhere.status_code == 302
    assert [exports_of(person) for person in (first, second, third)] == [1, 1, 1]


def test_the_refusal_page_is_in_russian_for_a_russian_browser():
    with time_machine.travel(START, tick=False):
        owner = UserFactory.create(username="owner")
        client = reauthenticate(Client(), owner)
        for _ in range(3):
            assert ask(client).status_code == 302
            run_queued("build_data_export")

        # The request leaves its language active in this thread; override() puts ours back.
        with translation.override(settings.LANGUAGE_CODE):
            refused = client.post("/privacy/export/", REMOTE_ADDR=HOME, HTTP_ACCEPT_LANGUAGE="ru")

    assert refused.status_code == 429
    page = refused.content.decode()
    assert "Слишком много запросов" in page
    assert '<html lang="ru"' in page
