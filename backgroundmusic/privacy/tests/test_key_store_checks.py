"""The key store's deploy check and its part of /healthz (privacy/kernel/keystore_checks.py)."""

import pytest

from backgroundmusic.privacy.kernel.keystore_checks import (
    key_store_deploy_check,
    key_store_health,
)

POSTGRES_MAIN = {"ENGINE": "django.db.backends.postgresql", "NAME": "bm", "HOST": "db1"}
POSTGRES_KEYS = {"ENGINE": "django.db.backends.postgresql", "NAME": "bm_keys", "HOST": "db1"}


def test_the_embedded_install_keeps_its_keys_in_a_file_of_their_own(settings):
    settings.EMBEDDED = True
    settings.KEYS_DATABASE_URL = ""
    assert key_store_deploy_check() == []


def test_a_server_install_without_a_key_store_url_is_refused(settings):
    settings.EMBEDDED = False
    settings.KEYS_DATABASE_URL = ""
    assert [message.id for message in key_store_deploy_check()] == ["privacy.E040"]


def test_a_key_store_in_the_main_database_is_refused(settings):
    settings.EMBEDDED = False
    settings.KEYS_DATABASE_URL = "postgres://db1/bm"
    settings.DATABASES = {"default": POSTGRES_MAIN, "keys": dict(POSTGRES_MAIN)}
    assert [message.id for message in key_store_deploy_check()] == ["privacy.E041"]


def test_a_key_store_of_its_own_passes(settings):
    settings.EMBEDDED = False
    settings.KEYS_DATABASE_URL = "postgres://db1/bm_keys"
    settings.DATABASES = {"default": POSTGRES_MAIN, "keys": POSTGRES_KEYS}
    assert key_store_deploy_check() == []


@pytest.mark.django_db
def test_the_health_part_says_the_key_store_answers():
    state = key_store_health()
    assert (state.ok, state.facts) == (True, {})
