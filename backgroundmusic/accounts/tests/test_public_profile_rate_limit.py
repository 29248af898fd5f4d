"""Opening public profiles (/u/<username>/, existing or not) counts per address and per
signed-in person (settings.RATE_LIMITS["public_profile"]): the one over the limit gets the
429 page with Retry-After."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.privacy import public_profile

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
HOME = "203.0.113.77"
ELSEWHERE = "198.51.100.20"


def limit(kind: str) -> int:
    return int(settings.RATE_LIMITS["public_profile"][kind].split("/")[0])


@pytest.fixture
def published() -> None:
    owner = UserFactory.create(username="owner")
    public_profile.public_profile_set(
        user=owner, published=True, public_fields=["social_links"], indexable=False
    )


def visit(client: Client, address: str, username: str = "owner"):
    return client.get(f"/u/{username}/", REMOTE_ADDR=address)


def test_the_visit_over_the_address_limit_gets_429_until_the_window_ends(client, published):
    with time_machine.travel(START, tick=False) as traveller:
        # Looking for names that do not exist counts too: that is how names are guessed.
        answers = [
            visit(client, HOME, "owner" if n % 2 else f"guess{n}").status_code
            for n in range(limit("address"))
        ]
        assert answers == [404, 200] * (limit("address") // 2)

        refused = visit(client, HOME)

        assert refused.status_code == 429
        retry_after = int(refused["Retry-After"])
        assert 1 <= retry_after <= 600
        page = refused.content.decode()
        assert "<h1>Too many requests</h1>" in page
        assert visit(client, ELSEWHERE).status_code == 200

        traveller.shift(timedelta(seconds=retry_after - 1))
        assert visit(client, HOME).status_code == 429
        traveller.shift(timedelta(seconds=1))
        assert visit(client, HOME).status_code == 200


def test_a_signed_in_person_is_counted_at_every_address(published):
    person, other = Client(), Client()
    person.force_login(UserFactory.create(username="person"))
    other.force_login(UserFactory.create(username="other"))
    with time_machine.travel(START, tick=False):
        answers = [
            visit(person, HOME if n % 2 else ELSEWHERE).status_code for n in range(limit("person"))
        ]
        assert answers == [200] * limit("person")

        refused = visit(person, "192.0.2.1")

        assert refused.status_code == 429
        assert int(refused["Retry-After"]) >= 1
        assert visit(other, HOME).status_code == 200
