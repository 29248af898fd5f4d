"""A sign-up with a registered address does the same costly work as one with a new address, so
its answer time does not tell the address apart (enumeration prevention is on)."""

from typing import ClassVar

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core import mail

from backgroundmusic.accounts import services
from backgroundmusic.accounts.models import User

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-password-1"


class CountingHasher(MD5PasswordHasher):
    """The suite's fast hasher, counting what it hashes."""

    hashed: ClassVar[list[str]] = []

    def encode(self, password: str, salt: str) -> str:
        self.hashed.append(password)
        return super().encode(password, salt)


@pytest.fixture
def counting_hasher(settings):
    settings.PASSWORD_HASHERS = [f"{CountingHasher.__module__}.CountingHasher"]
    CountingHasher.hashed.clear()
    return CountingHasher.hashed


def sign_up(client, username: str, email: str):
    return client.post(
        "/accounts/signup/",
        {
            "username": username,
            "email": email,
            "password1": PASSWORD,
            "password2": PASSWORD,
            "agreement": "on",
        },
    )


def test_a_registered_and_a_new_address_cost_one_hash_and_one_mail_each(client, counting_hasher):
    services.user_create(
        username="signupworkmember",
        email="signup-work-member@example.com",
        password=PASSWORD,
        email_verified=True,
    )
    counting_hasher.clear()

    registered = sign_up(client, "someone", "signup-work-member@example.com")
    assert (registered.status_code, registered["Location"]) == (302, "/accounts/confirm-email/")
    assert counting_hasher == [PASSWORD]
    assert [message.to for message in mail.outbox] == [["signup-work-member@example.com"]]
    assert not User.objects.filter(username="someone").exists()

    counting_hasher.clear()
    mail.outbox.clear()
    fresh = sign_up(type(client)(), "newcomer", "fresh-signup@example.com")
    assert (fresh.status_code, fresh["Location"]) == (302, "/accounts/confirm-email/")
    assert counting_hasher == [PASSWORD]
    assert [message.to for message in mail.outbox] == [["fresh-signup@example.com"]]
    assert User.objects.filter(username="newcomer").count() == 1
