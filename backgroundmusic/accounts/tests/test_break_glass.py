"""No staff account is a superuser; superuser status exists only under a recorded, expiring
break-glass grant (manage.py break_glass, accounts/break_glass.py), and even then it opens no
staff page a role does not."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core.management import CommandError, call_command
from django.test import Client

from backgroundmusic.accounts import staff
from backgroundmusic.accounts.models import BreakGlassEnd, BreakGlassGrant, User
from backgroundmusic.accounts.tasks import end_break_glass
from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.core import clock
from backgroundmusic.core.models import AppendOnlyError
from backgroundmusic.recurring import RECURRING_JOBS
from backgroundmusic.staffroles.selectors import staff_roles

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
PRIVACY_OFFICER_PAGES = [
    "/staff/requests/",
    "/staff/disclosures/",
    "/staff/legal-holds/",
    "/staff/policies/",
    "/staff/analytics/research/",
]
ADMINISTRATOR_SECTIONS = [
    "staff:people",
    "staff:access_log",
    "staff:audit_log",
    "catalog_staff:tracks",
    "media_staff:masters",
    "analytics_staff:dashboard",
]


@pytest.fixture
def seeded(settings, tmp_path) -> dict[str, User]:
    settings.EMBEDDED = True
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", stdout=StringIO())
    return {user.username: user for user in User.objects.all()}


@pytest.fixture
def operator(monkeypatch) -> str:
    monkeypatch.setenv("SUDO_USER", "alice")
    return "alice"


def grant(*args: str) -> str:
    out = StringIO()
    call_command("break_glass", "grant", *args, stdout=out)
    return out.getvalue()


def revoke(*args: str) -> str:
    out = StringIO()
    call_command("break_glass", "revoke", *args, stdout=out)
    return out.getvalue()


def flags(username: str) -> tuple[bool, bool]:
    user = User.objects.get(username=username)
    return user.is_superuser, user.is_staff


def signed_in_with_totp(user: User) -> Client:
    TOTP.activate(user, generate_totp_secret())
    client = Client()
    client.force_login(user)
    return client


def test_no_seeded_account_is_a_superuser_and_each_holds_its_role_only(seeded):
    assert sorted(seeded) == [
        "demo",
        "demo-admin",
        "demo-licensing",
        "demo-newsletter",
        "demo-privacy",
    ]
    assert [
        (u.username, u.is_superuser, u.is_staff) for u in seeded.values() if u.is_superuser
    ] == []
    roles = {
        name: sorted(user.groups.values_list("name", flat=True)) for name, user in seeded.items()
    }
    assert roles == {
        "demo": [],
        "demo-admin": ["administrator"],
        "demo-licensing": ["licensing_manager"],
        "demo-newsletter": ["newsletter_editor"],
        "demo-privacy": ["privacy_officer"],
    }
    assert flags("demo-admin") == (False, False)


@pytest.mark.django_db(databases="__all__")  # the statistics pages read the analytics database
def test_the_seeded_administrator_is_refused_the_privacy_officer_pages(seeded):
    admin = seeded["demo-admin"]
    client = signed_in_with_totp(admin)

    assert {path: client.get(path).status_code for path in PRIVACY_OFFICER_PAGES} == dict.fromkeys(
        PRIVACY_OFFICER_PAGES, 403
    )
    assert [section.url_name for section in staff.staff_sections(actor=admin)] == (
        ADMINISTRATOR_SECTIONS
    )
    assert staff.staff_visible_fields(actor=admin) == [
        "username",
        "email",
        "phone",
        "date_joined",
        "last_login",
        "account_type",
        "full_name",
        "company_name",
    ]


@pytest.mark.django_db(databases="__all__")
def test_a_break_glass_superuser_still_opens_only_the_pages_of_their_roles(seeded, operator):
    admin = seeded["demo-admin"]
    client = signed_in_with_totp(admin)
    grant("--user", "demo-admin", "--reason", "INC-7: roles table broken", "--minutes", "30")
    admin.refresh_from_db()
    assert admin.is_superuser

    assert {path: client.get(path).status_code for path in PRIVACY_OFFICER_PAGES} == dict.fromkeys(
        PRIVACY_OFFICER_PAGES, 403
    )
    assert staff_roles(user=admin) == {"administrator"}
    assert [section.url_name for section in staff.staff_sections(actor=admin)] == (
        ADMINISTRATOR_SECTIONS
    )
    # What superuser status is for: every change the Django admin offers, e.g. giving roles.
    assert client.get(f"/admin/accounts/user/{admin.pk}/change/").status_code == 200


def test_grant_makes_a_superuser_for_the_minutes_given_and_records_it(operator):
    person = UserFactory.create(username="ops-lead")
    with clock.frozen_at(NOW):
        said = grant(
            "--user", "ops-lead", "--reason", "  INC-7: roles table broken ", "--minutes", "45"
        )

    record = BreakGlassGrant.objects.get()
    assert (
        record.user_id,
        record.reason,
        record.operator,
        record.was_staff,
        record.granted_at,
        record.expires_at,
    ) == (person.pk, "INC-7: roles table broken", "alice", False, NOW, NOW + timedelta(minutes=45))
    assert flags("ops-lead") == (True, True)
    assert BreakGlassEnd.objects.count() == 0
    assert said == (
        f"ops-lead is a superuser until 2026-03-10 12:45 UTC (grant #{record.pk}). End it "
        "earlier with: manage.py break_glass revoke --user ops-lead\n"
    )


def test_the_grant_ends_at_its_expiry_and_gives_back_the_staff_flag(operator):
    UserFactory.create(username="ops-lead")
    with clock.frozen_at(NOW):
        grant("--user", "ops-lead", "--reason", "INC-7", "--minutes", "30")
    record = BreakGlassGrant.objects.get()

    with clock.frozen_at(NOW + timedelta(minutes=29, seconds=59)):
        assert end_break_glass.call() == 0
    assert flags("ops-lead") == (True, True)
    assert BreakGlassEnd.objects.count() == 0

    with clock.frozen_at(NOW + timedelta(minutes=30)):
        assert end_break_glass.call() == 1

    assert flags("ops-lead") == (False, False)
    end = BreakGlassEnd.objects.get()
    assert (end.grant_id, end.how, end.reason, end.operator, end.at) == (
        record.pk,
        "expired",
        "",
        "",
        NOW + timedelta(minutes=30),
    )
    with clock.frozen_at(NOW + timedelta(minutes=31)):
        assert end_break_glass.call() == 0
    assert BreakGlassEnd.objects.count() == 1


def test_the_expiry_job_runs_every_minute():
    assert [(job.cron, job.task) for job in RECURRING_JOBS if job.name == "end_break_glass"] == [
        ("* * * * *", "backgroundmusic.accounts.tasks.end_break_glass")
    ]


def test_a_revoke_reason_that_cannot_be_stored_is_refused_and_the_grant_stays_open(operator):
    UserFactory.create(username="ops-lead")
    with clock.frozen_at(NOW):
        grant("--user", "ops-lead", "--reason", "INC-7", "--minutes", "60")
        with pytest.raises(CommandError) as refused:
            revoke("--user", "ops-lead", "--reason", "done\udcff")

    assert "lone surrogate" in str(refused.value)
    assert (BreakGlassGrant.objects.count(), BreakGlassEnd.objects.count()) == (1, 0)
    assert flags("ops-lead") == (True, True)


def test_revoke_ends_the_grant_now_and_records_it(operator):
    member = UserFactory.create(username="ops-lead")
    member.is_staff = True
    member.save(update_fields=["is_staff"])
    with clock.frozen_at(NOW):
        grant("--user", "ops-lead", "--reason", "INC-7", "--minutes", "60")
    with clock.frozen_at(NOW + timedelta(minutes=10)):
        said = revoke("--user", "ops-lead", "--reason", "roles fixed")

    record = BreakGlassGrant.objects.get()
    end = BreakGlassEnd.objects.get()
    assert (end.grant_id, end.how, end.reason, end.operator, end.at) == (
        record.pk,
        "revoked",
        "roles fixed",
        "alice",
        NOW + timedelta(minutes=10),
    )
    assert flags("ops-lead") == (False, True)  # it was staff before the grant
    assert said == f"ops-lead is no longer a superuser (grant #{record.pk}).\n"
    with clock.frozen_at(NOW + timedelta(hours=2)):
        assert end_break_glass.call() == 0
    assert BreakGlassEnd.objects.count() == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--user", "nobody", "--reason", "INC-7", "--minutes", "30"],
            "There is no account with the username 'nobody'.",
        ),
        (
            ["--user", "ops-lead", "--reason", "   ", "--minutes", "30"],
            "Give the reason for breaking the glass.",
        ),
        (
            ["--user", "ops-lead", "--reason", "INC-7", "--minutes", "0"],
            "The grant lasts from 1 to 480 minutes, not 0.",
        ),
        (
            ["--user", "ops-lead", "--reason", "INC-7", "--minutes", "481"],
            "The grant lasts from 1 to 480 minutes, not 481.",
        ),
        (
            ["--user", "ops-lead", "--reason", "INC-7", "--minutes", "ten"],
            "argument --minutes: invalid int value: 'ten'",
        ),
        (
            ["--user", "ops-lead", "--minutes", "30"],
            "the following arguments are required: --reason",
        ),
        (
            ["--user", "ops-lead", "--reason", "INC-\udcff", "--minutes", "30"],
            "lone surrogate",
        ),
        (
            ["--user", "ops-lead", "--reason", "INC-7\u202e", "--minutes", "30"],
            "U+202E",
        ),
    ],
)
def test_bad_grant_input_is_refused_clearly_and_changes_nothing(args, message, operator):
    UserFactory.create(username="ops-lead")

    with pytest.raises(CommandError) as refused:
        grant(*args)

    assert message in str(refused.value)
    assert (BreakGlassGrant.objects.count(), BreakGlassEnd.objects.count()) == (0, 0)
    assert flags("ops-lead") == (False, False)


def test_a_second_grant_while_one_is_open_is_refused(operator):
    UserFactory.create(username="ops-lead")
    with clock.frozen_at(NOW):
        grant("--user", "ops-lead", "--reason", "INC-7", "--minutes", "30")
        first = BreakGlassGrant.objects.get()
        with pytest.raises(
            CommandError,
            match=r"'ops-lead' already holds grant #\d+ until "
            r"2026-03-10 12:30 UTC; revoke it first\.",
        ):
            grant("--user", "ops-lead", "--reason", "INC-8", "--minutes", "60")
    assert list(BreakGlassGrant.objects.all()) == [first]


def test_an_inactive_account_gets_no_grant(operator):
    user = UserFactory.create(username="ops-lead")
    user.is_active = False
    user.save(update_fields=["is_active"])
    with pytest.raises(CommandError, match=r"^The account 'ops-lead' is not active\.$"):
        grant("--user", "ops-lead", "--reason", "INC-7", "--minutes", "30")
    assert BreakGlassGrant.objects.count() == 0


@pytest.mark.parametrize("username", ["ops-lead", "nobody"])
def test_revoke_without_an_open_grant_is_refused_and_records_nothing(username, operator):
    UserFactory.create(username="ops-lead")
    with pytest.raises(CommandError) as refused:
        revoke("--user", username)
    assert str(refused.value) in (
        "'ops-lead' holds no open grant.",
        "There is no account with the username 'nobody'.",
    )
    assert BreakGlassEnd.objects.count() == 0


def test_a_superuser_without_a_grant_loses_the_status_at_the_next_run(caplog):
    made = User.objects.create_superuser(username="root-made", email="r@example.com", password="x")
    assert made.is_superuser

    with clock.frozen_at(NOW):
        assert end_break_glass.call() == 1

    assert flags("root-made") == (False, True)
    assert f"user {made.pk} was a superuser without a grant; no longer" in caplog.text
    assert BreakGlassGrant.objects.count() == 0


def test_grants_and_their_ends_are_append_only(operator):
    UserFactory.create(username="ops-lead")
    grant("--user", "ops-lead", "--reason", "INC-7", "--minutes", "30")
    revoke("--user", "ops-lead")
    record, end = BreakGlassGrant.objects.get(), BreakGlassEnd.objects.get()

    for change in (
        lambda: record.save(),
        lambda: record.delete(),
        lambda: BreakGlassGrant.objects.update(reason="nothing"),
        lambda: end.save(),
        lambda: BreakGlassEnd.objects.all().delete(),
    ):
        with pytest.raises(AppendOnlyError):
            change()
    assert BreakGlassGrant.objects.get().reason == "INC-7"


def test_the_django_admin_ends_an_expired_grant_before_any_page_even_without_the_job(operator):
    person = UserFactory.create(username="ops-lead")
    client = signed_in_with_totp(person)
    with clock.frozen_at(NOW):
        grant("--user", "ops-lead", "--reason", "INC-7", "--minutes", "30")
    with clock.frozen_at(NOW + timedelta(minutes=29)):
        assert client.get("/admin/accounts/user/").status_code == 200

    with clock.frozen_at(NOW + timedelta(minutes=30)):
        response = client.get("/admin/accounts/user/")

    assert (response.status_code, response["Location"]) == (
        302,
        "/admin/login/?next=/admin/accounts/user/",
    )
    assert flags("ops-lead") == (False, False)
    assert BreakGlassEnd.objects.get().how == "expired"
