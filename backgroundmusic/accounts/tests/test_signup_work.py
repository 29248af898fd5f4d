"""A sign-up with a registered address does the same costly work as one with a new address, so
its answer time does not tell the address apart (enumeration prevention is on)."""

from typing import ClassVar

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core import mail
from django.db import connection
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext

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


def sign_up(client, username: str, email: str) -> tuple[HttpResponse, list[str]]:
    """The answer, and the SQL statements the sign-up issued."""
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            "/accounts/signup/",
            {
                "username": username,
                "email": email,
                "password1": PASSWORD,
                "password2": PASSWORD,
                "agreement": "on",
            },
        )
    return response, [query["sql"] for query in queries]


def inserted_tables(statements: list[str]) -> list[str]:
    return [sql.split('"')[1] for sql in statements if sql.startswith("INSERT INTO")]


def test_a_registered_and_a_new_address_cost_the_same_hash_writes_and_mail(client, counting_hasher):
    services.user_create(
        username="signupworkmember",
        email="signup-work-member@example.com",
        password=PASSWORD,
        email_verified=True,
    )
    counting_hasher.clear()

    registered, registered_sql = sign_up(client, "someone", "signup-work-member@example.com")
    assert (registered.status_code, registered["Location"]) == (302, "/accounts/confirm-email/")
    assert counting_hasher == [PASSWORD]
    assert [message.to for message in mail.outbox] == [["signup-work-member@example.com"]]
    assert not User.objects.filter(username="someone").exists()
    assert User.objects.count() == 1

    counting_hasher.clear()
    mail.outbox.clear()
    fresh, fresh_sql = sign_up(type(client)(), "newcomer", "fresh-signup@example.com")
    assert (fresh.status_code, fresh["Location"]) == (302, "/accounts/confirm-email/")
    assert counting_hasher == [PASSWORD]
    assert [message.to for message in mail.outbox] == [["fresh-signup@example.com"]]
    assert User.objects.filter(username="newcomer").count() == 1

    # The same rows are written (and, for the registered address, rolled back), except the
    # e-mail address row, which allauth does not add twice.
    assert inserted_tables(registered_sql) == [
        "accounts_user",
        "accounts_profile",
        "django_session",
    ]
    assert inserted_tables(fresh_sql) == [
        "accounts_user",
        "accounts_profile",
        "account_emailaddress",
        "django_session",
    ]
    assert len(registered_sql) == len(fresh_sql) - 1
