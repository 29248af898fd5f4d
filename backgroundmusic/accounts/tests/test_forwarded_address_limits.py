"""Behind nginx (PROXY_COUNT=1, every request from 127.0.0.1 with the client's address appended to
X-Forwarded-For), each client keeps limits and records of its own through the whole middleware
stack: allauth's rate limits, django-axes' lockout, the project's rate limits, sign-in records."""

from datetime import UTC, datetime

import pytest
import time_machine
from allauth.account import app_settings as account_settings
from allauth.usersessions.models import UserSession
from axes.models import AccessAttempt, AccessLog
from django.conf import settings
from django.test import Client
from django.utils import translation

from backgroundmusic.accounts import services
from backgroundmusic.accounts.lockout import account_key

pytestmark = pytest.mark.django_db

NGINX = "127.0.0.1"
ALICE = "203.0.113.7"
BOB = "198.51.100.20"
PASSWORD = "a-long-password-1"
START = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
WRONG = "The username and/or password you specified are not correct."
TOO_MANY = "Too many failed login attempts. Try again later."


@pytest.fixture(autouse=True)
def _behind_nginx(settings):
    settings.PROXY_COUNT = 1
    with translation.override("en"), time_machine.travel(START, tick=False):
        yield


def through_nginx(address: str) -> Client:
    """A client whose requests reach the app as nginx passes them on: from nginx's address, with
    a left part the client made up and the address nginx saw appended."""
    return Client(REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR=f"10.9.8.7, {address}")


def per_minute(action: str) -> int:
    """The per-address count of one of allauth's limits, e.g. 30 of "30/m/ip"."""
    (per_address,) = [
        rate for rate in account_settings.RATE_LIMITS[action].split(",") if rate.endswith("/ip")
    ]
    assert per_address.split("/")[1] == "m"
    return int(per_address.split("/")[0])


@pytest.fixture
def member():
    return services.user_create(
        username="member", email="member@example.com", password=PASSWORD, email_verified=True
    )


def test_allauth_counts_login_requests_per_forwarded_address():
    alice, bob = through_nginx(ALICE), through_nginx(BOB)
    limit = per_minute("login")
    # An empty form is counted by the login limit and by nothing else (no password checked).
    statuses = [alice.post("/accounts/login/", {}).status_code for _ in range(limit + 1)]

    assert statuses == [200] * limit + [429]
    assert bob.post("/accounts/login/", {}).status_code == 200
    refused = alice.post("/accounts/login/", {})
    assert refused.status_code == 429
    # allauth renders the project's 429 page, which has no wait to name for its limits.
    assert "Please try again in a few minutes." in refused.content.decode()


def test_allauth_counts_failed_logins_per_forwarded_address():
    alice, bob = through_nginx(ALICE), through_nginx(BOB)
    limit = per_minute("login_failed")
    # A different unknown login each time: axes counts each on its own, and never locks.
    answers = [
        alice.post("/accounts/login/", {"login": f"nobody{n}", "password": "x"}).content.decode()
        for n in range(limit + 1)
    ]

    assert [WRONG in answer for answer in answers] == [True] * limit + [False]
    assert TOO_MANY in answers[-1]
    answer = bob.post("/accounts/login/", {"login": "nobody0", "password": "x"}).content.decode()
    assert (WRONG in answer, TOO_MANY in answer) == (True, False)
    assert sorted(set(AccessAttempt.objects.values_list("ip_address", flat=True))) == [BOB, ALICE]


def test_axes_locks_the_account_for_one_forwarded_address_only(member):
    alice, bob = through_nginx(ALICE), through_nginx(BOB)
    wrong = {"login": "member", "password": "not-the-password"}
    limit = settings.AXES_FAILURE_LIMIT
    statuses = [alice.post("/accounts/login/", wrong).status_code for _ in range(limit)]

    assert statuses == [200] * (limit - 1) + [429]
    right = {"login": "member", "password": PASSWORD}
    assert alice.post("/accounts/login/", right).status_code == 429
    signed_in = bob.post("/accounts/login/", right)
    assert (signed_in.status_code, signed_in["Location"]) == (302, "/account/profile/")
    assert bob.session["_auth_user_id"] == str(member.pk)
    attempts = AccessAttempt.objects.values_list("username", "ip_address", "failures_since_start")
    # The right password from a locked address counts as one more failure; Bob's success
    # resets only Bob's.
    assert list(attempts) == [(account_key(user_id=member.pk), ALICE, limit + 1)]
    assert list(AccessLog.objects.values_list("ip_address", flat=True)) == [BOB]
    assert list(UserSession.objects.values_list("ip", flat=True)) == [BOB]


def test_the_projects_rate_limit_counts_per_forwarded_address():
    alice, bob = through_nginx(ALICE), through_nginx(BOB)
    limit = int(settings.RATE_LIMITS["certificate_verify"]["address"].split("/")[0])
    # Guessing certificate ids: each unknown id is a 404, and each counts.
    statuses = [alice.get(f"/verify/guess{n}/").status_code for n in range(limit + 1)]

    assert statuses == [404] * limit + [429]
    assert bob.get("/verify/guess0/").status_code == 404
    assert alice.get("/verify/guess0/").status_code == 429


def test_without_proxy_count_everyone_behind_nginx_shares_its_address(settings):
    settings.PROXY_COUNT = 0
    alice, bob = through_nginx(ALICE), through_nginx(BOB)
    limit = int(settings.RATE_LIMITS["certificate_verify"]["address"].split("/")[0])
    statuses = [alice.get(f"/verify/guess{n}/").status_code for n in range(limit)]

    assert statuses == [404] * limit
    assert bob.get("/verify/guess0/").status_code == 429
