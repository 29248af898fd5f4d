"""Schemathesis over the licensing operations of the API, in-process against the WSGI app, as
the licensee of the API scene signed in (the session cookie, and the CSRF token for the one
write): every answer is documented and matches the schema, no 5xx, and an operation that needs
the session refuses without it. Path parameters are generated, or the scene's own agreement
numbers, order and certificate ids and plan codes, so the owner's answers are checked too."""

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from django.utils.crypto import get_random_string
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker
from schemathesis.specs.openapi.checks import positive_data_acceptance

from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.api.api import api
from backgroundmusic.core import clock
from backgroundmusic.licensing.models import Agreement, Certificate, Order, Plan
from backgroundmusic.licensing.tests.api_scene import NOW, licensee_scene
from config.wsgi import application

pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application).include(tag="licensing")
# The scene's own values of each path parameter, and the licensee's session key, filled by the
# `signed_in` fixture.
KNOWN: dict[str, list[str]] = {}
SESSION: dict[str, str] = {}


@schema.auth(refresh_interval=None)
class LicenseeSession:
    """The session cookie as schemathesis's authentication, so that its checks remove it or
    replace it with a made-up one to see the operation refuse."""

    def get(self, case, ctx):  # type: ignore[no-untyped-def]
        return SESSION.get("sessionid")

    def set(self, case, data, ctx):  # type: ignore[no-untyped-def]
        case.cookies = {**(case.cookies or {}), "sessionid": data}


@schema.hook
def flatmap_path_parameters(context, path_parameters):  # type: ignore[no-untyped-def]
    choices = [path_parameters]
    for name in path_parameters or {}:
        choices.extend({**path_parameters, name: value} for value in KNOWN.get(name, []))
    return st.sampled_from(choices)


# The hook below cannot tell a positive case from a negative one (its context names only the
# operation), so it asks the schema: only a body that conforms may be swapped for a covered work,
# or schemathesis would count that work's 201 as a schema-violating body accepted.
WORK_IN = Draft202012Validator(
    api.get_openapi_schema()["components"]["schemas"]["WorkIn"], format_checker=FormatChecker()
)


@schema.hook
def flatmap_body(context, body):  # type: ignore[no-untyped-def]
    """A generated body, or a work the scene's subscription covers (published while it was in
    force, on a video link of its own), so that the 201 answer is checked too."""
    if context.operation is None or not context.operation.path.endswith("/works"):
        return st.just(body)
    if not WORK_IN.is_valid(body):
        return st.just(body)
    covered = st.builds(
        lambda video, day: {"url": f"https://youtu.be/{video}", "published_on": day},
        st.text("abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=11),
        st.sampled_from(["2026-03-10", "2026-03-11", "2026-03-12"]),
    )
    return st.one_of(st.just(body), covered)


@pytest.fixture
def signed_in(db, settings) -> Iterator[dict[str, str]]:
    # As Django's test client does: a request must not close the test's database connection
    # (which holds the test transaction); schemathesis calls the WSGI app directly.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    # Rate limits have tests of their own; here every call must reach the operation.
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "api": {"person": "100000/m", "address": "100000/m"},
        "certificate_verify": {"person": "100000/m", "address": "100000/m"},
    }
    try:
        owner = UserFactory.create(username="owner")
        licensee_scene(owner)
        KNOWN.update(
            number=list(Agreement.objects.values_list("number", flat=True)),
            public_id=[
                *Order.objects.values_list("public_id", flat=True),
                *Certificate.objects.values_list("public_id", flat=True),
            ],
            code=list(Plan.objects.values_list("code", flat=True)),
        )
        client = Client()
        client.force_login(owner)
        token = get_random_string(32)
        SESSION["sessionid"] = client.cookies["sessionid"].value
        with clock.frozen_at(NOW):
            yield {"csrftoken": token}
    finally:
        KNOWN.clear()
        SESSION.clear()
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_licensing_api_conforms_to_its_schema(case, signed_in):
    # A valid-by-schema work may still be refused by coverage's rules (a date the licence was
    # not in force) with the documented 400, so "positive data is accepted" does not apply.
    case.call_and_validate(
        cookies=signed_in,
        headers={"X-CSRFToken": signed_in["csrftoken"]},
        # A server names the client's address; werkzeug's test client does not.
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
        excluded_checks=[positive_data_acceptance],
    )
