"""Suite-wide test settings: fast hashing, isolated cache, static files without a manifest."""

import shutil
import tempfile
from pathlib import Path

import pytest
from django.conf import settings as django_settings

pytest_plugins = ["tests.s3_double", "tests.yookassa_double", "tests.callers", "tests.smtp_server"]


DJANGO_DB_ARGUMENTS = ("transaction", "reset_sequences", "databases", "serialized_rollback")
DB_FIXTURES = {"db", "transactional_db", "live_server"}


def pytest_collection_modifyitems(items):
    """Every test that uses a database uses the key store too: sealed fields open their data keys
    there (privacy/kernel/routers.py). Rather than name it in every django_db mark, the mark each
    test gets (or has) is given the key store's alias as well, so pytest-django sets it up and
    lets the test reach it."""
    keys_alias = django_settings.KEYS_DB_ALIAS
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is None and not DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            continue
        arguments = (
            {}
            if marker is None
            else {**dict(zip(DJANGO_DB_ARGUMENTS, marker.args, strict=False)), **marker.kwargs}
        )
        databases = arguments.get("databases")
        if databases == "__all__" or (databases is not None and keys_alias in databases):
            continue
        arguments["databases"] = sorted({"default", *(databases or ()), keys_alias})
        item.add_marker(pytest.mark.django_db(**arguments), append=False)


def pytest_configure(config):
    # No flushing thread: a test writes its analytics events with event_buffer.flush(). Set for
    # the whole session, not per test: a beacon reaching the live server between two tests
    # would otherwise start a thread that writes into the next test's database.
    django_settings.ANALYTICS_FLUSH_SECONDS = 0
    # WhiteNoise warns on every request handler when the collected-static folder is missing,
    # and some are made while tests are collected (the API tests import the WSGI application).
    static_root = Path(tempfile.mkdtemp(prefix="bm-static-"))
    config.add_cleanup(lambda: shutil.rmtree(static_root, ignore_errors=True))
    django_settings.STATIC_ROOT = static_root


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.MEDIA_ROOT = tmp_path / "media"
    # The operator's details are the demonstration's in every run, embedded or on PostgreSQL, so
    # published texts and the records of processing read the same (core/operator.py).
    settings.OPERATOR_DEMONSTRATION = True
    # Text messages go to core.sms.outbox, emptied for each test (as pytest-django does for mail).
    from backgroundmusic.core import sms

    settings.SMS_BACKEND = "backgroundmusic.core.sms.LocmemSmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    sms.outbox.clear()


@pytest.fixture(autouse=True)
def _empty_cache(_test_settings):
    """Every test starts with an empty cache.

    LocMemCache keeps its entries in a module-level dict that outlives the settings override, so
    allauth's rate-limit counters would otherwise carry over from one test to the next. It asks
    for _test_settings so that it empties the test's LocMemCache, not the configured cache.
    """
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _empty_analytics_buffer():
    """Events a test leaves unwritten must not land in the next test's database; a salt
    remembered in memory may belong to a database a transactional test has flushed."""
    from backgroundmusic.analytics import keys
    from backgroundmusic.analytics.buffer import event_buffer

    yield
    event_buffer.discard()
    keys.forget_cached_salt()


@pytest.fixture(autouse=True)
def _data_from_migrations(request):
    """A transactional test starts from a flushed database, without the rows data migrations
    made (the staff role groups): put them back. serialized_rollback is not used: the serialized
    copy lives on the connection object, which Playwright's event loop context does not see, and
    a restore then collides with content types re-created after the flush."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    if marker.kwargs.get("serialized_rollback"):
        raise pytest.UsageError(f"{request.node.nodeid}: use django_db(transaction=True) alone")
    request.getfixturevalue("transactional_db")
    from django.apps import apps

    from backgroundmusic.staffroles.roles import role_groups_sync

    role_groups_sync(apps)


@pytest.fixture(autouse=True)
def _default_language():
    """A request in Russian leaves Russian active in its thread; the next test starts in the
    default language whatever the order."""
    from django.utils import translation

    yield
    translation.activate(django_settings.LANGUAGE_CODE)
