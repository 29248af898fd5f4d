"""The query budget of the licensing API (the pattern of tests/test_page_queries.py): each
operation with 3 and with 30 of what it lists (agreements, orders, order lines, downloads,
registered works, plans) makes the same number of queries, so none runs a query per row. A
signed-in call pays 7 of them before the operation: the session, the user, and allauth's record
of the session (read, the user again, updated, in a savepoint)."""

from datetime import date, timedelta

import pytest
from django.test import Client

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.catalog.tests.fixtures import ready_track
from backgroundmusic.core import clock
from backgroundmusic.licensing import agreements
from backgroundmusic.licensing.models import Agreement, CoveredChannel, CoveredUse, PlanKind, Use
from backgroundmusic.licensing.tests.api_scene import PAID, download
from backgroundmusic.licensing.tests.factories import plan_edition
from backgroundmusic.licensing.tests.paid_orders import paid_order
from tests.test_page_queries import assert_page_queries

pytestmark = pytest.mark.django_db

SIZES = [3, 30]
NOW = PAID + timedelta(days=2)


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(NOW):
        yield


def licences(owner: User, count: int) -> list[Agreement]:
    """`count` agreements of the owner, from one paid order each: subscriptions and
    single-track licences, every third revoked."""
    track = ready_track()
    single = plan_edition(kind=PlanKind.SINGLE_TRACK, uses=[Use.PROJECT])
    creator = plan_edition()
    concluded = []
    for number in range(count):
        line = {"edition": single, "track": track} if number % 2 else {"edition": creator}
        concluded.extend(
            agreements.agreements_conclude(
                order=paid_order(user=owner, lines=[line], paid_at=PAID), now=PAID
            )
        )
    for agreement in concluded[::3]:
        agreements.agreement_revoke(actor=None, agreement=agreement, reason="refund", now=NOW)
    return concluded


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("count", SIZES)
def test_plans(count, django_assert_num_queries):
    for _ in range(count):
        plan_edition()
    assert_page_queries(Client(), "/api/plans", 1, django_assert_num_queries)


@pytest.mark.parametrize("count", SIZES)
def test_certificate_check(count, django_assert_num_queries):
    listed = licences(UserFactory.create(), count)
    public_id = listed[1].certificate.public_id
    assert_page_queries(Client(), f"/api/certificates/{public_id}", 1, django_assert_num_queries)


@pytest.mark.parametrize("count", SIZES)
def test_my_agreements(count, django_assert_num_queries):
    owner = UserFactory.create()
    licences(owner, count)
    body = assert_page_queries(signed_in(owner), "/api/me/agreements", 8, django_assert_num_queries)
    assert body.count('"number"') == count


@pytest.mark.parametrize("count", SIZES)
def test_my_agreement(count, django_assert_num_queries):
    owner = UserFactory.create()
    listed = licences(owner, count)
    # A history as long as the list: renewals paid one after the other.
    subscription = listed[2]
    for month in range(1, count):
        agreements.agreement_extend(
            agreement=subscription,
            paid_until=PAID + timedelta(days=31 * (month + 1)),
            now=PAID + timedelta(minutes=month),
        )
    body = assert_page_queries(
        signed_in(owner), f"/api/me/agreements/{subscription.number}", 9, django_assert_num_queries
    )
    assert body.count('"status_to"') == count


@pytest.mark.parametrize("count", SIZES)
def test_my_coverage(count, django_assert_num_queries):
    owner = UserFactory.create()
    subscription = licences(owner, 3)[2]
    for number in range(count):
        CoveredChannel.objects.create(
            agreement=subscription, platform="vk", url=f"https://vk.com/c{number}", added_at=NOW
        )
        CoveredUse.objects.create(
            agreement=subscription,
            track=ready_track() if number % 2 else None,
            platform="youtube",
            url=f"https://youtu.be/v{number}",
            published_on=date(2026, 3, 11),
            added_at=NOW,
        )
    body = assert_page_queries(
        signed_in(owner),
        f"/api/me/agreements/{subscription.number}/coverage",
        12,
        django_assert_num_queries,
    )
    assert body.count('"covered": true') == count


@pytest.mark.parametrize("count", SIZES)
def test_my_orders(count, django_assert_num_queries):
    owner = UserFactory.create()
    licences(owner, count)
    body = assert_page_queries(signed_in(owner), "/api/me/orders", 8, django_assert_num_queries)
    assert body.count('"public_id"') == count


@pytest.mark.parametrize("count", SIZES)
def test_my_order(count, django_assert_num_queries):
    owner = UserFactory.create()
    subscription = licences(owner, 3)[2]
    lines = [
        {"edition": plan_edition(), "renews": subscription, "renews_until": NOW}
        if number % 2
        else {"edition": plan_edition(), "track": ready_track(), "quantity": 2}
        for number in range(count)
    ]
    order = paid_order(user=owner, lines=lines, paid_at=PAID)
    body = assert_page_queries(
        signed_in(owner), f"/api/me/orders/{order.public_id}", 10, django_assert_num_queries
    )
    assert body.count('"position"') == count


@pytest.mark.parametrize("count", SIZES)
def test_my_downloads(count, django_assert_num_queries):
    owner = UserFactory.create()
    licences(owner, count)
    tracks = [ready_track() for _ in range(3)]
    for number in range(count):
        download(owner, tracks[number % 3], PAID + timedelta(minutes=number))
    body = assert_page_queries(signed_in(owner), "/api/me/downloads", 11, django_assert_num_queries)
    assert body.count('"agreement_number"') == count
