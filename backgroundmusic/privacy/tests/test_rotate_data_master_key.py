"""manage.py rotate_data_master_key: rewraps data keys under the new master key, values intact."""

import base64
import io
import os

import pytest
from django.core.management import CommandError, call_command

from backgroundmusic.accounts import services
from backgroundmusic.accounts.models import Profile, User
from backgroundmusic.privacy.kernel.models import DataKey

pytestmark = pytest.mark.django_db

OLD = base64.urlsafe_b64encode(os.urandom(32)).decode()
NEW = base64.urlsafe_b64encode(os.urandom(32)).decode()
NAMES = {"anna": "Anna Kovaleva", "boris": "Boris Orlov", "vera": "Vera Lis"}


def rotate() -> str:
    out = io.StringIO()
    call_command("rotate_data_master_key", stdout=out)
    return out.getvalue()


@pytest.fixture
def people(settings) -> list[User]:
    settings.DATA_MASTER_KEYS = f"k1:{OLD}"
    users = []
    for username, full_name in NAMES.items():
        user = services.user_create(
            username=username, email=f"{username}@example.com", password="a-long-password-1"
        )
        user.profile.full_name = full_name
        user.profile.address_city = "Tver"
        user.profile.save()
        users.append(user)
    return users


def stored_names() -> dict[str, str]:
    return {p.user.username: p.full_name for p in Profile.objects.select_related("user")}


def wrapped_by() -> list[str]:
    return list(DataKey.objects.order_by("pk").values_list("master_key_id", flat=True))


def test_rotation_rewraps_every_key_and_values_open_with_the_new_key_alone(settings, people):
    settings.DATA_MASTER_KEYS = f"k2:{NEW},k1:{OLD}"

    assert rotate() == (
        "Rewrapped 3 data keys under master key k2.\n"
        "Re-sealed 0 kept letters under master key k2.\n"
        "Re-sealed 0 pending requests under master key k2.\n"
        "Re-sealed 0 two-factor secrets under master key k2.\n"
    )

    assert wrapped_by() == ["k2", "k2", "k2"]
    assert DataKey.objects.filter(rewrapped_at__isnull=True).count() == 0
    settings.DATA_MASTER_KEYS = f"k2:{NEW}"
    assert stored_names() == NAMES


def test_rotation_run_twice_changes_nothing_the_second_time(settings, people):
    settings.DATA_MASTER_KEYS = f"k2:{NEW},k1:{OLD}"
    rotate()
    wrapped_after_first = list(DataKey.objects.order_by("pk").values_list("wrapped_key", flat=True))

    assert rotate() == (
        "Rewrapped 0 data keys under master key k2.\n"
        "Re-sealed 0 kept letters under master key k2.\n"
        "Re-sealed 0 pending requests under master key k2.\n"
        "Re-sealed 0 two-factor secrets under master key k2.\n"
    )

    assert [
        bytes(w) for w in DataKey.objects.order_by("pk").values_list("wrapped_key", flat=True)
    ] == [bytes(w) for w in wrapped_after_first]


def test_rotation_with_only_the_current_key_configured_has_nothing_to_do(people):
    assert rotate() == (
        "Rewrapped 0 data keys under master key k1.\n"
        "Re-sealed 0 kept letters under master key k1.\n"
        "Re-sealed 0 pending requests under master key k1.\n"
        "Re-sealed 0 two-factor secrets under master key k1.\n"
    )

    assert wrapped_by() == ["k1", "k1", "k1"]


def test_a_retired_key_still_in_use_is_named_and_nothing_changes(settings, people):
    settings.DATA_MASTER_KEYS = f"k2:{NEW}"

    with pytest.raises(CommandError) as refused:
        rotate()

    assert str(refused.value) == (
        "Data keys are still wrapped by master key(s) k1, missing from DATA_MASTER_KEYS. "
        "List them after the current key k2 "
        '(DATA_MASTER_KEYS="new-id:new-key,old-id:old-key" (keys: 32 bytes, url-safe base64)), '
        "run this command again, and remove them only after that."
    )
    assert wrapped_by() == ["k1", "k1", "k1"]


def test_a_wrong_value_under_a_known_id_is_refused_and_nothing_changes(settings, people):
    settings.DATA_MASTER_KEYS = f"k2:{NEW},k1:{NEW}"

    with pytest.raises(CommandError) as refused:
        rotate()

    assert str(refused.value).startswith(
        "A master key in DATA_MASTER_KEYS has a known id but the wrong value"
    )
    assert wrapped_by() == ["k1", "k1", "k1"]
    settings.DATA_MASTER_KEYS = f"k1:{OLD}"
    assert stored_names() == NAMES


@pytest.mark.parametrize(
    "setting, problem",
    [
        ("", "DATA_MASTER_KEYS holds no key"),
        ("k2:not-base64!", "DATA_MASTER_KEYS: key 'k2' is not base64"),
        ("k2:c2hvcnQ", "DATA_MASTER_KEYS: key 'k2' must be 'id:base64' of 32 bytes"),
    ],
)
def test_a_malformed_setting_is_explained(settings, people, setting, problem):
    settings.DATA_MASTER_KEYS = setting

    with pytest.raises(CommandError) as refused:
        rotate()

    assert str(refused.value) == (
        f"{problem}. Expected "
        'DATA_MASTER_KEYS="new-id:new-key,old-id:old-key" (keys: 32 bytes, url-safe base64).'
    )
    assert wrapped_by() == ["k1", "k1", "k1"]
