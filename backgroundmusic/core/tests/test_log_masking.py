"""No e-mail, password or remembered name reaches the log output on ordinary paths (DESIGN.md §4).

The handlers configured from settings.LOGGING write to a captured stream instead of stderr; the
records come from the real sign-up, sign-in, lockout and error paths.
"""

import contextlib
import io
import logging
import re
import sys
import uuid
from collections.abc import Iterator

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core import mail
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path
from django.utils.log import configure_logging

from backgroundmusic.core.logging import (
    PersonalDataMaskFilter,
    RequestIdFilter,
    forget_personal_values,
    remember_personal_values,
)

pytestmark = pytest.mark.django_db

PASSWORD = "Correct-Horse-Battery-42"
WRONG_PASSWORD = "Wrong-Horse-Battery-17"
FULL_NAME = "Yevdokiya Zakharovna Pleshcheyeva"
AXES_CLIENT = '{username: "********************", ip_address: "127.0.0.1", path_info: "%s"}'


def fail_naming(request: HttpRequest, who: str) -> HttpResponse:
    raise LookupError(f"no licence on file for {who}")


# The site's URLs plus one failing view, so Django's own 500 logging runs.
urlpatterns = [
    path("fail/<str:who>/", fail_naming),
    path("", include(settings.ROOT_URLCONF)),
]


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """Logging configured from settings, as django.setup() does, writing to a captured stream."""
    stream = io.StringIO()
    # Handlers bind sys.stderr when they are built, so build them while it is the capture.
    with contextlib.redirect_stderr(stream):
        configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
    root_filters = [type(f) for h in logging.getLogger().handlers for f in h.filters]
    assert root_filters == [RequestIdFilter, PersonalDataMaskFilter]
    try:
        yield stream
    finally:
        # Back to what django.setup() configures, on the process's real stderr: pytest's capture
        # stream is closed after the test, and handlers bound to it would fail in later tests.
        with contextlib.redirect_stderr(sys.__stderr__):
            configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
        forget_personal_values()


def lines(output: io.StringIO) -> list[str]:
    """Logged lines without their timestamps."""
    return re.sub(r"(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ", "", output.getvalue()).splitlines()


@pytest.fixture
def person() -> dict[str, str]:
    suffix = uuid.uuid4().hex[:10]
    return {"username": f"listener{suffix}", "email": f"listener.{suffix}@example.org"}


def test_sign_up_sign_in_and_lockout_log_no_login_or_password(settings, client, person, log_output):
    email, username = person["email"], person["username"]
    signed_up = client.post(
        "/accounts/signup/",
        {
            "username": username,
            "email": email,
            "password1": PASSWORD,
            "password2": PASSWORD,
            "agreement": "on",
        },
    )
    assert signed_up.status_code == 302
    confirm_path = re.search(
        r"http://testserver(/accounts/confirm-email/\S+/)", str(mail.outbox[0].body)
    )
    assert confirm_path is not None
    assert client.post(confirm_path.group(1)).status_code == 302
    assert (
        client.post("/accounts/login/", {"login": email, "password": PASSWORD}).status_code == 302
    )
    assert client.post("/accounts/logout/").status_code == 302

    # One counter for the account whatever is typed (accounts/lockout.py): the username is
    # locked once the e-mail address is.
    for login, expected in (
        (email, [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]),
        (username, [429] * settings.AXES_FAILURE_LIMIT),
    ):
        statuses = [
            client.post(
                "/accounts/login/", {"login": login, "password": WRONG_PASSWORD}
            ).status_code
            for _ in range(settings.AXES_FAILURE_LIMIT)
        ]
        assert statuses == expected

    output = log_output.getvalue()
    for secret in (email, username, PASSWORD, WRONG_PASSWORD):
        assert secret not in output
    logged = lines(log_output)
    assert (
        logged.count(
            "WARNING axes.handlers.database AXES: Locking out "
            + AXES_CLIENT % "/accounts/login/"
            + " after repeated login failures."
        )
        == 1 + settings.AXES_FAILURE_LIMIT  # the fifth failure, then each attempt while locked
    )
    assert (
        "INFO axes.handlers.database AXES: Successful login by "
        + AXES_CLIENT % "/accounts/login/"
        + "."
    ) in logged
    stored = list(AccessAttempt.objects.values_list("failures_since_start", "post_data"))
    assert [failures for failures, _ in stored] == [2 * settings.AXES_FAILURE_LIMIT]
    for _, post_data in stored:
        assert "password=********************" in post_data
        for secret in (email, username, WRONG_PASSWORD):
            assert secret not in post_data


def test_a_404_path_naming_a_person_is_logged_masked(client, person, log_output):
    assert client.get(f"/people/{person['email']}/").status_code == 404

    assert lines(log_output) == ["WARNING django.request Not Found: /people/[personal data]/"]


def test_an_unhandled_error_naming_a_person_is_logged_masked(settings, person, log_output):
    settings.ROOT_URLCONF = __name__

    response = Client(raise_request_exception=False).get(f"/fail/{person['email']}/")

    assert response.status_code == 500
    logged = lines(log_output)
    assert logged[0] == "ERROR django.request Internal Server Error: /fail/[personal data]/"
    assert logged[-1] == "LookupError: no licence on file for [personal data]"
    assert person["email"] not in log_output.getvalue()


def test_logger_exception_masks_message_arguments_and_traceback(person, log_output):
    email = person["email"]
    remember_personal_values(FULL_NAME)

    try:
        raise LookupError(f"no licence on file for {FULL_NAME} <{email}>")
    except LookupError:
        logging.getLogger("backgroundmusic.licensing").exception(
            "Licence lookup failed for %s (%s)", FULL_NAME, email
        )

    logged = lines(log_output)
    assert logged[0] == (
        "ERROR backgroundmusic.licensing Licence lookup failed for [personal data] "
        "([personal data])"
    )
    assert logged[-1] == "LookupError: no licence on file for [personal data] <[personal data]>"
    assert FULL_NAME not in log_output.getvalue()
    assert email not in log_output.getvalue()


def test_django_request_warnings_are_masked(person, log_output):
    remember_personal_values(FULL_NAME)

    logging.getLogger("django.request").warning(
        "Rejected invoice address of %s (%s)", FULL_NAME, person["email"]
    )

    assert lines(log_output) == [
        "WARNING django.request Rejected invoice address of [personal data] ([personal data])"
    ]


@pytest.mark.parametrize("debug", [True, False])
def test_paths_naming_a_person_are_masked_with_debug_on_and_off(
    settings, client, person, debug, log_output
):
    # Django's default handlers (console under DEBUG) would write before the masked root handler.
    settings.DEBUG = debug
    assert client.get(f"/u/{person['username']}/").status_code == 404
    assert client.get(f"/people/{person['email']}/").status_code == 404

    assert lines(log_output) == [
        "WARNING django.request Not Found: /u/[personal data]/",
        "WARNING django.request Not Found: /people/[personal data]/",
    ]
