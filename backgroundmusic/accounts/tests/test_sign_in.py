import pytest
from allauth.account.models import EmailAddress
from axes.models import AccessAttempt
from django.core import mail

from backgroundmusic.accounts import services
from backgroundmusic.accounts.models import Profile, User

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-password-1"


@pytest.fixture
def member():
    return services.user_create(
        username="member", email="member@example.com", password=PASSWORD, email_verified=True
    )


@pytest.mark.parametrize("login", ["member", "member@example.com", "MEMBER@example.com"])
def test_log_in_by_username_or_email(client, member, login):
    response = client.post("/accounts/login/", {"login": login, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/account/profile/"
    assert client.session["_auth_user_id"] == str(member.pk)


def test_sign_up_needs_a_verified_email_before_logging_in(client):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "newcomer",
            "email": "new@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "agreement": "on",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    user = User.objects.get(username="newcomer")
    assert Profile.objects.filter(user=user).count() == 1
    assert EmailAddress.objects.get(user=user).verified is False
    assert "_auth_user_id" not in client.session
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@example.com"]

    response = client.post("/accounts/login/", {"login": "newcomer", "password": PASSWORD})
    assert response["Location"] == "/accounts/confirm-email/"
    assert "_auth_user_id" not in client.session


def test_sign_up_with_a_taken_email_does_not_reveal_the_account(client, member):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "someone",
            "email": "member@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "agreement": "on",
        },
    )
    # Same answer as a fresh sign-up; the owner of the address gets a notice instead.
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert not User.objects.filter(username="someone").exists()
    assert mail.outbox[0].to == ["member@example.com"]


def test_password_reset_answers_the_same_for_unknown_addresses(client, member):
    known = client.post("/accounts/password/reset/", {"email": "member@example.com"})
    unknown = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert [m.to for m in mail.outbox] == [["member@example.com"], ["nobody@example.com"]]


def test_repeated_failures_lock_the_login_with_429(client, member, settings):
    statuses = [
        client.post("/accounts/login/", {"login": "member", "password": f"wrong-{i}"}).status_code
        for i in range(settings.AXES_FAILURE_LIMIT + 1)
    ]
    assert statuses == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429, 429]
    locked = client.post("/accounts/login/", {"login": "member", "password": PASSWORD})
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    attempt = AccessAttempt.objects.get()
    assert attempt.username == f"account:{member.pk}"
    assert PASSWORD not in attempt.post_data and "wrong-0" not in attempt.post_data


def test_own_sessions_are_listed_and_can_be_ended(client, member):
    client.post("/accounts/login/", {"login": "member", "password": PASSWORD})
    other = type(client)()
    other.post("/accounts/login/", {"login": "member", "password": PASSWORD})
    page = client.get("/accounts/sessions/")
    assert page.status_code == 200
    assert member.usersession_set.count() == 2
    client.post("/accounts/sessions/", {"action": "logout"})
    assert member.usersession_set.count() == 1
    assert other.get("/account/profile/").status_code == 302
