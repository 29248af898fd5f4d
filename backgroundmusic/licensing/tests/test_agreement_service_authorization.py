"""The agreement services that act for staff check their actor themselves, whoever calls them:
every caller kind calls each one directly. A licensing manager gets the exact result; every other
kind gets PermissionDenied and nothing is written (no access-log entry, no event, no audit row).
(Revocation has its own matrix in test_agreement_status.py.)"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from backgroundmusic.core.errors import PermissionDenied
from backgroundmusic.licensing import agreements
from backgroundmusic.licensing.models import Agreement
from backgroundmusic.licensing.tests.factories import plan_edition
from backgroundmusic.licensing.tests.paid_orders import paid_order
from backgroundmusic.privacy.kernel.models import StaffAccessLogEntry
from tests.callers import ALL_CALLERS

pytestmark = pytest.mark.django_db

PAID = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def agreement(owner) -> Agreement:
    [agreement] = agreements.agreements_conclude(
        order=paid_order(user=owner, lines=[{"edition": plan_edition()}], paid_at=PAID), now=PAID
    )
    return agreement


def acting(caller_for: Callable[..., Any], kind: str) -> Any:
    user = caller_for(kind).user
    return AnonymousUser() if user is None else user


@pytest.mark.parametrize("kind", ALL_CALLERS)
def test_listing_and_opening_agreements(caller_for, kind, agreement):
    actor = acting(caller_for, kind)
    if kind != "licensing_manager":
        with pytest.raises(PermissionDenied):
            agreements.agreements_for_staff(actor=actor)
        with pytest.raises(PermissionDenied):
            agreements.agreement_for_staff(actor=actor, number=agreement.number)
        return
    assert list(agreements.agreements_for_staff(actor=actor)) == [agreement]
    assert agreements.agreement_for_staff(actor=actor, number=agreement.number) == agreement
    assert agreements.agreement_for_staff(actor=actor, number="BM-1-000000") is None


@pytest.mark.parametrize("kind", ALL_CALLERS)
def test_reading_the_licensees_data(caller_for, kind, agreement):
    actor = acting(caller_for, kind)
    if kind != "licensing_manager":
        with pytest.raises(PermissionDenied):
            agreements.agreement_staff_read(actor=actor, agreement=agreement, reason="Claim")
        assert not StaffAccessLogEntry.objects.exists()
        return
    agreements.agreement_staff_read(actor=actor, agreement=agreement, reason=" Claim ")
    entry = StaffAccessLogEntry.objects.get()
    assert (entry.actor_id, entry.subject_id, entry.reason) == (
        actor.pk,
        agreement.user_id,
        f"Agreement {agreement.number}: Claim",
    )
