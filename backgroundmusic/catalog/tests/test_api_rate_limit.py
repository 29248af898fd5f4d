"""Every call of the JSON API counts per address and per signed-in person
(settings.RATE_LIMITS["api"]); the one over the limit gets 429, Retry-After and the error
envelope. The documentation page and the schema are not counted."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from backgroundmusic.accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
HOME = "203.0.113.77"
NEIGHBOUR = "203.0.113.200"  # the same /24 network: the same truncated address
ELSEWHERE = "198.51.100.20"


def limit(kind: str) -> int:
    return int(settings.RATE_LIMITS["api"][kind].split("/")[0])


def call(client: Client, address: str, path: str = "/api/tracks"):
    return client.get(path, REMOTE_ADDR=address)


def test_the_call_over_the_address_limit_gets_429_until_the_window_ends(client):
    with time_machine.travel(START, tick=False) as traveller:
        answers = [
            call(client, HOME if n % 2 else NEIGHBOUR).status_code for n in range(limit("address"))
        ]
        assert answers == [200] * limit("address")

        refused = call(client, HOME, "/api/collections")

        assert refused.status_code == 429
        retry_after = int(refused["Retry-After"])
        assert 1 <= retry_after <= 60
        assert refused.json() == {
            "error": {
                "code": "rate_limited",
                "message": "Too many requests: try again after the number of seconds in "
                "Retry-After.",
                "details": {"retry_after": retry_after},
            }
        }
        assert call(client, NEIGHBOUR).status_code == 429
        assert call(client, ELSEWHERE).status_code == 200
        assert call(client, HOME, "/api/openapi.json").status_code == 200
        assert call(client, HOME, "/api/docs").status_code == 200

        traveller.shift(timedelta(seconds=retry_after - 1))
        assert call(client, HOME).status_code == 429
        traveller.shift(timedelta(seconds=1))
        assert call(client, HOME).status_code == 200


def test_a_signed_in_person_is_counted_at_every_address(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api": {"person": "4/m", "address": "300/m"}}
    person, other = Client(), Client()
    person.force_login(UserFactory.create(username="person"))
    other.force_login(UserFactory.create(username="other"))
    with time_machine.travel(START, tick=False):
        addresses = [HOME, ELSEWHERE, "192.0.2.1", "2001:db8::1"]
        assert [call(person, address).status_code for address in addresses] == [200] * 4

        refused = call(person, "2001:db8:1::1")

        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "rate_limited"
        assert call(other, HOME).status_code == 200
