"""Hostile text at the licence pages' entry points (tests/fuzz/test_edge_fuzz.py): the /verify/
id, the owner's display choice and the staff member's read and revocation reasons. Never a 5xx;
what is stored is exactly a valid choice or reason, or nothing; every text column stays
storable."""

from datetime import UTC, datetime

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.audit.models import AuditEvent
from backgroundmusic.licensing import agreements
from backgroundmusic.licensing.models import Agreement, Certificate
from backgroundmusic.licensing.tests.factories import plan_edition
from backgroundmusic.licensing.tests.paid_orders import paid_order
from backgroundmusic.privacy.kernel.models import StaffAccessLogEntry
from backgroundmusic.staffroles.roles import StaffRole
from tests.fuzz.test_edge_fuzz import (
    HOSTILE_BYTES,
    assert_everything_stored_is_storable,
    hostile_fields,
    post_form,
    url_segment,
)
from tests.fuzz.test_forms_fuzz import PHASES

pytestmark = pytest.mark.django_db(databases="__all__")

PAID = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
FUZZ = hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    phases=PHASES,
)


@pytest.fixture
def owner() -> User:
    return UserFactory.create(username="fuzz-owner")


@pytest.fixture
def agreement(owner) -> Agreement:
    [agreement] = agreements.agreements_conclude(
        order=paid_order(user=owner, lines=[{"edition": plan_edition()}], paid_at=PAID), now=PAID
    )
    return agreement


@FUZZ
@given(public_id=HOSTILE_BYTES)
def test_verify_answers_every_id_without_failing(agreement, public_id):
    response = Client().get(f"/verify/{url_segment(public_id)}/")
    assert response.status_code in (400, 404, 429)


@FUZZ
@given(fields=hostile_fields({"licensee_display": "full_name"}))
def test_the_display_choice_stores_a_valid_choice_or_nothing(owner, agreement, fields):
    client = Client()
    client.force_login(owner)
    response = post_form(client, f"/licences/{agreement.number}/", fields)
    assert response.status_code in (302, 400)
    display = Certificate.objects.get().licensee_display
    assert display in (Certificate.Display.PRIVATE_PERSON, Certificate.Display.FULL_NAME)
    Certificate.objects.update(licensee_display=Certificate.Display.PRIVATE_PERSON)
    assert_everything_stored_is_storable()


@FUZZ
@given(
    op=st.sampled_from(["read", "revoke"]),
    fields=hostile_fields({"reason": "A claim from a platform"}),
)
def test_staff_reasons_are_stored_whole_under_the_text_rules_or_not_at_all(agreement, op, fields):
    manager = User.objects.filter(username="fuzz-manager").first() or StaffFactory.create(
        username="fuzz-manager", role=StaffRole.LICENSING_MANAGER
    )
    client = Client()
    client.force_login(manager)
    response = post_form(
        client, f"/staff/licensing/agreements/{agreement.number}/", {**fields, "op": op.encode()}
    )
    assert response.status_code in (200, 302, 400)
    for reason in [
        *AuditEvent.objects.filter(action="agreement.revoked").values_list("reason", flat=True),
        *StaffAccessLogEntry.objects.values_list("reason", flat=True),
    ]:
        assert "\x00" not in reason
        assert "\u202e" not in reason
    assert_everything_stored_is_storable()
