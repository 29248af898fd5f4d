"""The agreement services that act for staff check their actor themselves, whoever calls them:
every caller kind calls each one directly. A licensing manager gets the exact result; every other
kind gets ActionRefused and nothing is written (no access-log entry, no event) but one
`service.denied` row naming it and the service. (Revocation has its own matrix in
test_agreement_status.py.)"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from backgroundmusic.audit.tests.refusals import service_denial, service_denials
from backgroundmusic.core.errors import ActionRefused
from backgroundmusic.licensing import agreements
from backgroundmusic.licensing.models import Agreement
from backgroundmusic.licensing.tests.factories import plan_edition
from backgroundmusic.licensing.tests.paid_orders import paid_order
from backgroundmusic.privacy.kernel.models import StaffAccessLogEntry
from tests.callers import expected_by_caller

pytestmark = pytest.mark.django_db

PAID = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
MAY_SEE = expected_by_caller({"licensing_manager"}, allowed_outcome=True, refused_outcome=False)


def refused_by(actor: Any, *services: str) -> list[tuple[Any, ...]]:
    return [
        service_denial(
            actor, service=f"licensing.{service}", permission="staff_may_manage_agreements"
        )
        for service in services
    ]


@pytest.fixture
def agreement(owner) -> Agreement:
    [agreement] = agreements.agreements_conclude(
        order=paid_order(user=owner, lines=[{"edition": plan_edition()}], paid_at=PAID), now=PAID
    )
    return agreement


def acting(caller_for: Callable[..., Any], kind: str) -> Any:
    user = caller_for(kind).user
    return AnonymousUser() if user is None else user


@pytest.mark.parametrize(("kind", "allowed"), MAY_SEE.items())
def test_listing_and_opening_agreements(caller_for, kind, allowed, agreement):
    actor = acting(caller_for, kind)
    if not allowed:
        with pytest.raises(ActionRefused):
            agreements.agreements_for_staff(actor=actor)
        with pytest.raises(ActionRefused):
            agreements.agreement_for_staff(actor=actor, number=agreement.number)
        assert service_denials() == refused_by(actor, "agreements_for_staff", "agreement_for_staff")
        return
    assert list(agreements.agreements_for_staff(actor=actor)) == [agreement]
    assert agreements.agreement_for_staff(actor=actor, number=agreement.number) == agreement
    assert agreements.agreement_for_staff(actor=actor, number="BM-1-000000") is None
    assert service_denials() == []


@pytest.mark.parametrize(("kind", "allowed"), MAY_SEE.items())
def test_reading_the_licensees_data(caller_for, kind, allowed, agreement):
    actor = acting(caller_for, kind)
    if not allowed:
        with pytest.raises(ActionRefused):
            agreements.agreement_staff_read(actor=actor, agreement=agreement, reason="Claim")
        assert not StaffAccessLogEntry.objects.exists()
        assert service_denials() == refused_by(actor, "agreement_staff_read")
        return
    agreements.agreement_staff_read(actor=actor, agreement=agreement, reason=" Claim ")
    entry = StaffAccessLogEntry.objects.get()
    assert (entry.actor_id, entry.subject_id, entry.reason) == (
        actor.pk,
        agreement.user_id,
        f"Agreement {agreement.number}: Claim",
    )
    assert service_denials() == []
