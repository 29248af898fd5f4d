"""Sign-in records belong to the account that held the typed identifier at that moment, and the
lockout counts per account (and address) whatever identifier is typed (decision 0013)."""

import itertools
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from axes.models import AccessAttempt, AccessLog
from django.test import Client

from backgroundmusic.accounts import erasure, services
from backgroundmusic.accounts.lockout import lockout_username
from backgroundmusic.accounts.models import User
from backgroundmusic.core import clock
from backgroundmusic.privacy.kernel.registry import ErasureSubject
from backgroundmusic.privacy.retention import retention_run

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-password-1"
# A fresh client address per test: allauth's per-address limit on failed logins (20 a minute)
# would otherwise answer before axes when the module runs within one minute.
_addresses = (f"198.51.100.{n}" for n in itertools.count(1))


@pytest.fixture
def ip() -> str:
    return next(_addresses)


def make_user(username: str, email: str = "") -> User:
    return services.user_create(
        username=username,
        email=email or f"{username}@example.com",
        password=PASSWORD,
        email_verified=True,
    )


def rename(user: User, username: str) -> None:
    user.username = username
    user.save(update_fields=["username"])


def change_email(user: User, email: str) -> None:
    """What allauth's e-mail change leaves behind: the new address is the only one."""
    EmailAddress.objects.filter(user=user).update(email=email)
    User.objects.filter(pk=user.pk).update(email=email)


def sign_in(login: str, password: str = PASSWORD, ip: str = "192.0.2.1") -> int:
    response = Client(REMOTE_ADDR=ip, HTTP_USER_AGENT=f"agent of {login}").post(
        "/accounts/login/", {"login": login, "password": password}
    )
    return response.status_code


def exported_agents(user: User) -> dict[str, list[str]]:
    rows = erasure.export_sign_in_records(subject_id=user.pk)
    return {
        label: sorted(str(getattr(row, "user_agent", "")) for row in found)
        for label, found in rows.items()
    }


def erase_sign_in_records(user: User) -> dict[str, int]:
    return erasure.erase_sign_in_records(
        subject=ErasureSubject(subject_id=user.pk, pseudonym="subject-x", reason="test")
    )


def test_records_stay_with_the_account_after_its_username_passes_to_another():
    first = make_user("melody")
    assert sign_in("melody") == 302
    assert sign_in("MELODY", "wrong-password") == 200
    rename(first, "harmony")
    second = make_user("melody", "second-melody@example.com")
    assert sign_in("second-melody@example.com") == 302
    assert sign_in("melody", "wrong-password", ip="192.0.2.2") == 200

    assert exported_agents(first) == {
        "axes.AccessAttempt": ["agent of MELODY"],
        "axes.AccessLog": ["agent of melody"],
        "axes.AccessFailureLog": [],
    }
    assert exported_agents(second) == {
        "axes.AccessAttempt": ["agent of melody"],
        "axes.AccessLog": ["agent of second-melody@example.com"],
        "axes.AccessFailureLog": [],
    }

    assert erase_sign_in_records(second) == {"axes.AccessAttempt": 1, "axes.AccessLog": 1}
    assert exported_agents(first) == {
        "axes.AccessAttempt": ["agent of MELODY"],
        "axes.AccessLog": ["agent of melody"],
        "axes.AccessFailureLog": [],
    }
    assert AccessAttempt.objects.count() == 1
    assert AccessLog.objects.count() == 1


def test_records_stay_with_the_account_after_its_email_address_passes_to_another():
    first = make_user("tempo")
    assert sign_in("tempo@example.com") == 302
    change_email(first, "tempo-new@example.com")
    second = make_user("rhythm")
    change_email(second, "tempo@example.com")
    assert sign_in("Tempo@Example.com") == 302
    assert sign_in("tempo-new@example.com", "wrong-password") == 200

    assert exported_agents(first) == {
        "axes.AccessAttempt": ["agent of tempo-new@example.com"],
        "axes.AccessLog": ["agent of tempo@example.com"],
        "axes.AccessFailureLog": [],
    }
    assert exported_agents(second) == {
        "axes.AccessAttempt": [],
        "axes.AccessLog": ["agent of Tempo@Example.com"],
        "axes.AccessFailureLog": [],
    }
    assert erase_sign_in_records(first) == {"axes.AccessAttempt": 1, "axes.AccessLog": 1}
    assert list(AccessLog.objects.values_list("username", flat=True)) == [f"account:{second.pk}"]


def test_attempts_at_a_name_of_no_account_are_nobodys_and_stay_when_it_is_taken_later():
    assert sign_in("latecomer", "wrong-password") == 200
    latecomer = make_user("latecomer")
    assert exported_agents(latecomer) == {
        "axes.AccessAttempt": [],
        "axes.AccessLog": [],
        "axes.AccessFailureLog": [],
    }
    assert erase_sign_in_records(latecomer) == {}
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["latecomer"]


def test_rows_from_before_the_account_key_are_nobodys():
    member = make_user("legacy")
    AccessLog.objects.create(
        username="legacy", ip_address="192.0.2.9", user_agent="old", http_accept="*/*"
    )
    assert exported_agents(member)["axes.AccessLog"] == []
    assert erase_sign_in_records(member) == {}
    assert AccessLog.objects.count() == 1


@pytest.mark.django_db(databases="__all__")  # the retention run prunes analytics too
def test_retention_still_removes_keyed_records_after_90_days():
    member = make_user("keeper")
    assert sign_in("keeper") == 302
    assert sign_in("keeper", "wrong-password") == 200
    now = clock.now()
    AccessLog.objects.update(attempt_time=now - timedelta(days=91))
    with clock.frozen_at(now):
        assert retention_run().destroyed == {"axes.AccessLog": 1}
    assert exported_agents(member)["axes.AccessAttempt"] == ["agent of keeper"]
    AccessAttempt.objects.update(attempt_time=now - timedelta(days=91))
    with clock.frozen_at(now):
        assert retention_run().destroyed == {"axes.AccessAttempt": 1}
    assert exported_agents(member) == {
        "axes.AccessAttempt": [],
        "axes.AccessLog": [],
        "axes.AccessFailureLog": [],
    }


def test_sign_out_closes_the_accounts_own_log_row(ip):
    member = make_user("leaver")
    client = Client(REMOTE_ADDR=ip)
    client.post("/accounts/login/", {"login": "leaver", "password": PASSWORD})
    client.post("/accounts/logout/")
    log = AccessLog.objects.get()
    assert log.username == f"account:{member.pk}"
    assert log.logout_time is not None


def test_sessions_stay_with_the_account_across_a_rename(ip):
    first = make_user("sessional")
    client = Client(REMOTE_ADDR=ip)
    client.post("/accounts/login/", {"login": "sessional", "password": PASSWORD})
    client.get("/account/profile/")
    rename(first, "renamed")
    second = make_user("sessional", "second-sessional@example.com")
    assert list(UserSession.objects.values_list("user_id", flat=True)) == [first.pk]
    assert UserSession.objects.filter(user=second).count() == 0


@pytest.mark.parametrize(
    ("failed_as", "then_as"),
    [
        ("lockee", "lockee@example.com"),
        ("lockee@example.com", "lockee"),
        ("LOCKEE", "Lockee@Example.COM"),
        ("LocKee@example.com", "lockee"),
    ],
)
def test_failures_through_one_identifier_lock_every_identifier_of_the_account(
    settings, ip, failed_as, then_as
):
    make_user("lockee")
    client = Client(REMOTE_ADDR=ip)
    statuses = [
        client.post("/accounts/login/", {"login": failed_as, "password": "wrong"}).status_code
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert statuses == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    locked = client.post("/accounts/login/", {"login": then_as, "password": PASSWORD})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    assert AccessLog.objects.count() == 0


def test_failures_spread_over_identifiers_add_up_to_one_lockout(settings, ip):
    make_user("spread")
    client = Client(REMOTE_ADDR=ip)
    logins = ["spread", "spread@example.com", "SPREAD", "Spread@Example.com", "spread"]
    statuses = [
        client.post("/accounts/login/", {"login": login, "password": "wrong"}).status_code
        for login in logins[: settings.AXES_FAILURE_LIMIT]
    ]
    assert settings.AXES_FAILURE_LIMIT == 5
    assert statuses == [200, 200, 200, 200, 429]
    [attempt] = AccessAttempt.objects.all()
    assert attempt.failures_since_start == 5


def test_the_lockout_holds_for_the_address_that_failed_not_for_the_owner_elsewhere(settings, ip):
    owner = make_user("owner")
    stranger = Client(REMOTE_ADDR="203.0.113.66")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        stranger.post("/accounts/login/", {"login": "owner", "password": "wrong"})
    assert (
        stranger.post(
            "/accounts/login/", {"login": "owner@example.com", "password": PASSWORD}
        ).status_code
        == 429
    )
    at_home = Client(REMOTE_ADDR=ip)
    response = at_home.post("/accounts/login/", {"login": "owner", "password": PASSWORD})
    assert response.status_code == 302
    assert at_home.session["_auth_user_id"] == str(owner.pk)


def test_a_successful_sign_in_resets_the_accounts_counter_whatever_was_typed(settings, ip):
    make_user("resetter")
    client = Client(REMOTE_ADDR=ip)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post("/accounts/login/", {"login": "resetter", "password": "wrong"})
    assert (
        client.post(
            "/accounts/login/", {"login": "resetter@example.com", "password": PASSWORD}
        ).status_code
        == 302
    )
    assert AccessAttempt.objects.count() == 0


def test_a_login_longer_than_any_identifier_is_refused_before_it_is_counted(ip):
    login = "x" * 5000 + "@example.com"
    response = Client(REMOTE_ADDR=ip).post("/accounts/login/", {"login": login, "password": "x"})
    assert response.status_code == 200
    assert AccessAttempt.objects.count() == 0


def test_the_counter_key_of_a_login_longer_than_the_column_is_cut_to_it(rf):
    request = rf.post("/accounts/login/")
    assert lockout_username(request, {"username": "X" * 5000}) == "x" * 255
