"""refusals_audited: one `service.denied` row per refusal, kept when the service's own
transaction rolls back, written once however deep the refusing service was called."""

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection, transaction

from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.audit.models import AuditAction, AuditEvent
from backgroundmusic.audit.refusals import refusals_audited
from backgroundmusic.audit.services import audit_record
from backgroundmusic.audit.tests.refusals import service_denial, service_denials
from backgroundmusic.core.errors import ActionRefused
from backgroundmusic.staffroles.roles import StaffRole
from backgroundmusic.staffroles.selectors import staff_may_manage_catalogue, staff_require

PERMISSION = "staff_may_manage_catalogue"


@refusals_audited("tests.write_then_check")
@transaction.atomic
def write_then_check(*, actor: Any) -> str:
    """Writes a row first and asks afterwards, so a refusal has something to roll back."""
    audit_record(actor=actor, action=AuditAction.CATALOGUE_FACET_CREATED, target=("x.Y", 1))
    staff_require(actor=actor, may=staff_may_manage_catalogue)
    return "done"


@refusals_audited("tests.outer")
@transaction.atomic
def outer(*, actor: Any) -> str:
    return write_then_check(actor=actor)


@refusals_audited("tests.outer_without_transaction")
def outer_without_transaction(*, actor: Any) -> str:
    return write_then_check(actor=actor)


def rows() -> list[tuple[Any, ...]]:
    return list(AuditEvent.objects.order_by("pk").values_list("actor_id", "action", "after"))


@pytest.mark.django_db
def test_an_allowed_call_writes_its_row_and_no_refusal():
    manager = StaffFactory.create(role=StaffRole.CONTENT_MANAGER)
    before = rows()
    assert write_then_check(actor=manager) == "done"
    assert rows()[len(before) :] == [(manager.pk, "catalogue.facet_created", {})]


@pytest.mark.django_db(transaction=True)
def test_the_refusal_row_outlives_the_rollback_and_is_committed():
    person = UserFactory.create()
    with pytest.raises(ActionRefused) as refused:
        write_then_check(actor=person)
    assert refused.value.recorded is True
    # No transaction is open: the row is committed, and the service's own row rolled back.
    assert connection.in_atomic_block is False
    assert rows() == [
        (
            person.pk,
            "service.denied",
            {"service": "tests.write_then_check", "permission": PERMISSION},
        )
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("outermost", [outer, outer_without_transaction])
def test_a_refusal_deep_inside_is_recorded_once_by_the_outermost_service(outermost):
    person = UserFactory.create()
    with pytest.raises(ActionRefused):
        outermost(actor=person)
    name = outermost.__name__
    assert rows() == [
        (person.pk, "service.denied", {"service": f"tests.{name}", "permission": PERMISSION})
    ]


@pytest.mark.django_db
def test_the_system_and_a_signed_out_visitor_are_named_without_an_id():
    for actor in (None, AnonymousUser()):
        with pytest.raises(ActionRefused):
            write_then_check(actor=actor)
    assert service_denials() == [
        (None, {"service": "tests.write_then_check", "permission": PERMISSION, "caller": caller})
        for caller in ("system", "anonymous")
    ]
    assert service_denials() == [
        service_denial(actor, service="tests.write_then_check", permission=PERMISSION)
        for actor in (None, AnonymousUser())
    ]


@pytest.mark.django_db
def test_other_errors_pass_through_unrecorded():
    @refusals_audited("tests.fails")
    def fails() -> None:
        raise ValueError("not a refusal")

    with pytest.raises(ValueError, match="not a refusal"):
        fails()
    assert not AuditEvent.objects.exists()
