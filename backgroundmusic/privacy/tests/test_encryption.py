"""Personal fields are sealed at rest, bound to their key and field, and die with the key."""

import base64
import os

import pytest
from django.db import connection, transaction

from backgroundmusic.accounts import services
from backgroundmusic.accounts.models import Profile, SocialLink, User
from backgroundmusic.privacy.kernel import keys
from backgroundmusic.privacy.kernel.crypto import CiphertextInvalid, DataKeyDestroyed
from backgroundmusic.privacy.kernel.fields import EncryptedTextField
from backgroundmusic.privacy.kernel.models import DataKey

pytestmark = pytest.mark.django_db

PROFILE_VALUES = {
    "full_name": "Анна Сергеевна Ковалёва",
    "company_name": "Kovaleva Sound LLC",
    "tax_id": "7707083893",
    "address_country": "Russia",
    "address_region": "Moscow region",
    "address_city": "Khimki",
    "address_street": "Lenina 12, apt 34",
    "address_postcode": "141400",
}


def new_master_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


@pytest.fixture(autouse=True)
def master_key(settings) -> str:
    key = new_master_key()
    settings.DATA_MASTER_KEYS = f"k1:{key}"
    return key


def person(username: str, **values: str) -> User:
    user = services.user_create(
        username=username, email=f"{username}@example.com", password="a-long-password-1"
    )
    profile = user.profile
    for name, value in values.items():
        setattr(profile, name, value)
    profile.save()
    return user


def raw_column(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 - names are test constants
        return cursor.fetchone()[0]


def write_raw_column(table: str, column: str, pk: int, value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, pk])  # noqa: S608 - names are test constants


def test_sealed_fields_round_trip_through_save_and_reload():
    user = person("anna", **PROFILE_VALUES)
    link = SocialLink.objects.create(profile=user.profile, url="https://vk.com/anna.k")

    profile = Profile.objects.get(user=user)

    assert {name: getattr(profile, name) for name in PROFILE_VALUES} == PROFILE_VALUES
    assert SocialLink.objects.get(pk=link.pk).url == "https://vk.com/anna.k"


def test_raw_columns_hold_sealed_tokens_and_no_plaintext():
    user = person("anna", **PROFILE_VALUES)
    key_id = DataKey.objects.get(subject_id=user.pk).pk

    for name, plaintext in PROFILE_VALUES.items():
        stored = raw_column("accounts_profile", name, user.profile.pk)
        assert stored.startswith(f"enc1:{key_id}:"), name
        assert plaintext not in stored, name


def test_each_save_seals_with_a_fresh_nonce():
    user = person("anna", full_name="Anna K")
    first = raw_column("accounts_profile", "full_name", user.profile.pk)

    user.profile.save()

    second = raw_column("accounts_profile", "full_name", user.profile.pk)
    assert first != second
    assert Profile.objects.get(pk=user.profile.pk).full_name == "Anna K"


def test_empty_values_are_stored_empty():
    user = person("anna")

    assert raw_column("accounts_profile", "full_name", user.profile.pk) == ""
    assert Profile.objects.get(pk=user.profile.pk).full_name == ""


def test_queryset_update_with_a_plain_value_is_refused_and_changes_nothing():
    user = person("anna", full_name="Anna K")
    before = raw_column("accounts_profile", "full_name", user.profile.pk)

    # update() marks the transaction for rollback on error; the savepoint keeps the test's usable.
    with pytest.raises(ValueError) as refused, transaction.atomic():
        Profile.objects.filter(pk=user.profile.pk).update(full_name="x")

    assert str(refused.value) == (
        "accounts.profile.full_name is encrypted: write it through save(), not update() or lookups"
    )
    assert raw_column("accounts_profile", "full_name", user.profile.pk) == before


def test_lookups_on_a_sealed_field_are_refused():
    person("anna", full_name="Anna K")

    with pytest.raises(ValueError):
        list(Profile.objects.filter(full_name="Anna K"))


def test_a_copy_taken_before_the_key_is_destroyed_cannot_be_opened_after():
    user = person("anna", **PROFILE_VALUES)
    backup = raw_column("accounts_profile", "full_name", user.profile.pk)
    field = Profile._meta.get_field("full_name")
    assert isinstance(field, EncryptedTextField)
    assert field.from_db_value(backup, None, connection) == PROFILE_VALUES["full_name"]

    assert keys.data_key_destroy(subject_id=user.pk) == 1

    assert not DataKey.objects.filter(subject_id=user.pk).exists()
    with pytest.raises(DataKeyDestroyed):
        field.from_db_value(backup, None, connection)
    with pytest.raises(DataKeyDestroyed):
        Profile.objects.get(pk=user.profile.pk)


def test_a_new_data_key_after_destruction_does_not_open_old_copies():
    user = person("anna", full_name="Anna K")
    backup = raw_column("accounts_profile", "full_name", user.profile.pk)
    old_key_id = DataKey.objects.get(subject_id=user.pk).pk
    keys.data_key_destroy(subject_id=user.pk)

    new_key_id, _ = keys.data_key_for_subject(subject_id=user.pk)
    field = Profile._meta.get_field("full_name")

    assert new_key_id != old_key_id
    with pytest.raises(DataKeyDestroyed):
        field.from_db_value(backup, None, connection)


def test_a_token_moved_to_another_field_fails_authentication():
    user = person("anna", **PROFILE_VALUES)
    token = raw_column("accounts_profile", "full_name", user.profile.pk)

    write_raw_column("accounts_profile", "address_city", user.profile.pk, token)

    with pytest.raises(CiphertextInvalid):
        Profile.objects.get(pk=user.profile.pk)


def test_a_social_link_token_moved_into_the_profile_fails_authentication():
    user = person("anna", full_name="Anna K")
    link = SocialLink.objects.create(profile=user.profile, url="https://vk.com/anna.k")
    token = raw_column("accounts_sociallink", "url", link.pk)

    write_raw_column("accounts_profile", "full_name", user.profile.pk, token)

    with pytest.raises(CiphertextInvalid):
        Profile.objects.get(pk=user.profile.pk)


def test_a_token_moved_to_another_persons_row_and_field_fails_authentication():
    anna = person("anna", **PROFILE_VALUES)
    boris = person("boris", full_name="Boris B", address_city="Tver")
    token = raw_column("accounts_profile", "full_name", anna.profile.pk)

    write_raw_column("accounts_profile", "address_city", boris.profile.pk, token)

    with pytest.raises(CiphertextInvalid):
        Profile.objects.get(pk=boris.profile.pk)


def test_a_tampered_token_fails_authentication():
    user = person("anna", full_name="Anna K")
    token = raw_column("accounts_profile", "full_name", user.profile.pk)
    prefix, body = token.rsplit(":", 1)
    raw = bytearray(base64.urlsafe_b64decode(body))
    raw[-1] ^= 0x01

    write_raw_column(
        "accounts_profile",
        "full_name",
        user.profile.pk,
        f"{prefix}:{base64.urlsafe_b64encode(bytes(raw)).decode()}",
    )

    with pytest.raises(CiphertextInvalid):
        Profile.objects.get(pk=user.profile.pk)


def test_a_different_master_key_under_the_same_id_fails_authentication(settings):
    user = person("anna", full_name="Anna K")

    settings.DATA_MASTER_KEYS = f"k1:{new_master_key()}"

    with pytest.raises(CiphertextInvalid):
        Profile.objects.get(pk=user.profile.pk)


def test_a_tampered_wrapped_key_fails_authentication():
    user = person("anna", full_name="Anna K")
    data_key = DataKey.objects.get(subject_id=user.pk)
    wrapped = bytearray(data_key.wrapped_key)
    wrapped[-1] ^= 0x01
    DataKey.objects.filter(pk=data_key.pk).update(wrapped_key=bytes(wrapped))

    with pytest.raises(CiphertextInvalid):
        Profile.objects.get(pk=user.profile.pk)


def test_a_wrapped_key_copied_from_another_person_fails_authentication():
    anna = person("anna", full_name="Anna K")
    boris = person("boris", full_name="Boris B")
    borrowed = DataKey.objects.get(subject_id=anna.pk).wrapped_key

    DataKey.objects.filter(subject_id=boris.pk).update(wrapped_key=borrowed)

    with pytest.raises(CiphertextInvalid):
        Profile.objects.get(pk=boris.profile.pk)


def test_a_token_moved_into_the_same_field_of_another_persons_row_fails_authentication():
    anna = person("anna", full_name="Anna K")
    boris = person("boris", full_name="Boris B")
    token = raw_column("accounts_profile", "full_name", anna.profile.pk)

    write_raw_column("accounts_profile", "full_name", boris.profile.pk, token)

    profile = Profile.objects.get(pk=boris.profile.pk)
    with pytest.raises(CiphertextInvalid):
        profile.full_name  # noqa: B018 - reading is what fails
    with pytest.raises(CiphertextInvalid):
        profile.save()


def test_a_social_link_token_moved_to_another_persons_link_fails_authentication():
    anna = person("anna")
    boris = person("boris")
    annas = SocialLink.objects.create(profile=anna.profile, url="https://vk.com/anna.k")
    boris_link = SocialLink.objects.create(profile=boris.profile, url="https://vk.com/boris")

    write_raw_column(
        "accounts_sociallink",
        "url",
        boris_link.pk,
        raw_column("accounts_sociallink", "url", annas.pk),
    )

    assert [link.url for link in anna.profile.social_links.all()] == ["https://vk.com/anna.k"]
    with pytest.raises(CiphertextInvalid):
        [link.url for link in boris.profile.social_links.all()]
