"""Usernames that only look like a taken or reserved one are refused (UTS #39 skeletons)."""

import importlib

import pytest
from django.apps import apps as django_apps
from django.core import mail

from backgroundmusic.accounts import services
from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.test_profile import profile_post, stored_profile
from backgroundmusic.accounts.tests.test_staff import admin_client_2fa  # noqa: F401 - fixture
from backgroundmusic.accounts.usernames import username_skeleton, username_skeleton_digest

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-password-1"
LOOKS_TAKEN = "This username looks the same as one that is already taken. Please choose another."

LOOK_ALIKES_OF_DEMO = [
    "d\u0435mo",  # Cyrillic е
    "dem\u043e",  # Cyrillic о
    "d\u0435m\u043e",  # both
    "\uff44\uff45\uff4d\uff4f",  # fullwidth ｄｅｍｏ
    "\uff24\uff25\uff2d\uff2f",  # fullwidth ＤＥＭＯ
    "DEM0",  # zero for a capital O
    "D\u0435mo",  # mixed case with a Cyrillic е
]


def make_user(username: str) -> User:
    return services.user_create(
        username=username, email=f"{len(username)}{username}@example.com", password=PASSWORD
    )


def sign_up(client, username: str, email: str = ""):
    return client.post(
        "/accounts/signup/",
        {
            "username": username,
            "email": email or f"{len(username)}-signup@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "agreement": "on",
        },
    )


def test_look_alikes_share_one_skeleton_and_distinct_names_do_not():
    assert {username_skeleton(name) for name in ["demo", *LOOK_ALIKES_OF_DEMO]} == {"derno"}
    assert username_skeleton("d\u0430ta") == username_skeleton("data")  # Cyrillic а
    assert username_skeleton("Ill") == username_skeleton("lll")
    assert len({username_skeleton(name) for name in ["demo", "demos", "dema", "memo"]}) == 4


def test_the_stored_skeleton_follows_the_username():
    user = make_user("demo")
    assert user.username_skeleton == username_skeleton_digest("demo")
    user.username = "melody"
    user.save(update_fields=["username"])
    user.refresh_from_db()
    assert user.username_skeleton == username_skeleton_digest("melody")


@pytest.mark.parametrize("look_alike", LOOK_ALIKES_OF_DEMO)
def test_sign_up_refuses_a_look_alike_of_a_taken_username(client, look_alike):
    make_user("demo")
    response = sign_up(client, look_alike)
    assert response.status_code == 200
    assert response.context["form"].errors["username"] == [LOOKS_TAKEN]
    assert list(User.objects.values_list("username", flat=True)) == ["demo"]
    assert mail.outbox == []


@pytest.mark.parametrize("look_alike", ["\u0430dmin", "ADM\u0399N", "\uff52\uff4f\uff4f\uff54"])
def test_sign_up_refuses_a_look_alike_of_a_reserved_username(client, look_alike):
    response = sign_up(client, look_alike)
    assert response.status_code == 200
    assert response.context["form"].errors["username"] == [
        "Username can not be used. Please use other username."
    ]
    assert User.objects.count() == 0


def test_sign_up_accepts_a_distinct_username(client):
    make_user("demo")
    response = sign_up(client, "demos")
    assert (response.status_code, response["Location"]) == (302, "/accounts/confirm-email/")
    assert User.objects.filter(username="demos").count() == 1


@pytest.mark.parametrize("look_alike", LOOK_ALIKES_OF_DEMO)
def test_renaming_to_a_look_alike_of_anothers_username_is_refused(client, look_alike):
    make_user("demo")
    owner = make_user("owner")
    client.force_login(owner)
    before = stored_profile(owner)
    response = client.post("/account/profile/", profile_post(username=look_alike))
    assert response.status_code == 200
    assert response.context["form"].errors["username"] == [LOOKS_TAKEN]
    assert stored_profile(owner) == before


def test_renaming_to_a_look_alike_of_ones_own_username_is_allowed(client):
    owner = make_user("owner")
    client.force_login(owner)
    response = client.post("/account/profile/", profile_post(username="\u043ewner"))
    assert (response.status_code, response["Location"]) == (302, "/account/profile/")
    owner.refresh_from_db()
    assert owner.username == "\u043ewner"
    assert owner.username_skeleton == username_skeleton_digest("owner")


def test_renaming_to_a_distinct_username_is_accepted(client):
    make_user("demo")
    owner = make_user("owner")
    client.force_login(owner)
    response = client.post("/account/profile/", profile_post(username="demo2"))
    assert (response.status_code, response["Location"]) == (302, "/account/profile/")
    owner.refresh_from_db()
    assert (owner.username, owner.username_skeleton) == ("demo2", username_skeleton_digest("demo2"))


def test_the_migration_gives_the_oldest_of_existing_look_alikes_the_digest(client):
    migration = importlib.import_module(
        "backgroundmusic.accounts.migrations.0007_username_skeleton"
    )
    older = make_user("demo")
    User.objects.filter(pk=older.pk).update(username_skeleton=None)
    # Accounts made before the check existed may look alike.
    younger = make_user("d\u0435mo")
    User.objects.update(username_skeleton=None)

    migration.fill_username_skeletons(django_apps, None)

    assert dict(User.objects.values_list("username", "username_skeleton")) == {
        "demo": username_skeleton_digest("demo"),
        "d\u0435mo": None,
    }
    assert younger.pk > older.pk
    response = sign_up(client, "dem\u043e")
    assert response.context["form"].errors["username"] == [LOOKS_TAKEN]


def test_the_admin_refuses_a_look_alike_rename(admin_client_2fa):  # noqa: F811 - the fixture
    make_user("demo")
    owner = make_user("owner")
    response = admin_client_2fa.post(
        f"/admin/accounts/user/{owner.pk}/change/",
        {"username": "d\u0435mo", "is_active": "on"},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["username"] == [LOOKS_TAKEN]
    owner.refresh_from_db()
    assert (owner.username, owner.username_skeleton) == ("owner", username_skeleton_digest("owner"))
