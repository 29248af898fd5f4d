"""The query budget of the licence pages (tests/test_page_queries.py): the same number of
queries with 3 and with 30 agreements, so no page runs a query per agreement."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.catalog.tests.fixtures import ready_track
from backgroundmusic.core import clock
from backgroundmusic.licensing import agreements
from backgroundmusic.licensing.models import Agreement, PlanKind, Use
from backgroundmusic.licensing.tests.factories import plan_edition
from backgroundmusic.licensing.tests.paid_orders import paid_order
from backgroundmusic.staffroles.roles import StaffRole
from tests.test_page_queries import assert_page_queries

pytestmark = pytest.mark.django_db

SIZES = [3, 30]
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(NOW):
        yield


def licences(owner: User, count: int) -> list[Agreement]:
    """`count` agreements of the owner: subscriptions and single-track licences, some ended."""
    track = ready_track()
    single = plan_edition(kind=PlanKind.SINGLE_TRACK, uses=[Use.PROJECT])
    creator = plan_edition()
    lines = [
        {"edition": single, "track": track} if number % 2 else {"edition": creator}
        for number in range(count)
    ]
    concluded = agreements.agreements_conclude(
        order=paid_order(user=owner, lines=lines, paid_at=NOW - timedelta(days=1)), now=NOW
    )
    for agreement in concluded[::3]:
        agreements.agreement_revoke(actor=None, agreement=agreement, reason="refund", now=NOW)
    return concluded


@pytest.mark.parametrize("count", SIZES)
def test_my_licences(count, client, django_assert_num_queries):
    owner = UserFactory.create()
    listed = licences(owner, count)
    client.force_login(owner)
    # 15: the agreements, then for their renewals the editions on sale and the renewal orders
    # waiting for payment, one query each.
    page = assert_page_queries(client, "/licences/", 15, django_assert_num_queries)
    assert page.count('class="licence-card"') == count
    assert listed[0].number in page


@pytest.mark.parametrize("count", SIZES)
def test_verify(count, django_assert_num_queries):
    owner = UserFactory.create()
    listed = licences(owner, count)
    page = assert_page_queries(
        Client(),
        f"/verify/{listed[1].certificate.public_id}/",
        1,
        django_assert_num_queries,
    )
    assert listed[1].number in page


@pytest.mark.parametrize("count", SIZES)
def test_staff_agreements(count, client, django_assert_num_queries):
    licences(UserFactory.create(), count)
    client.force_login(StaffFactory.create(role=StaffRole.LICENSING_MANAGER))
    page = assert_page_queries(
        client, "/staff/licensing/agreements/", 24, django_assert_num_queries
    )
    assert page.count("<tr data-number=") == count
