"""The query budget of the checkout pages (the pattern of tests/test_page_queries.py): each page
with 3 and with 30 of what it lists makes the same number of queries."""

import pytest

from backgroundmusic.accounts.tests.factories import StaffFactory
from backgroundmusic.licensing.models import BuyerKind, Order
from backgroundmusic.licensing.orders import cart_add
from backgroundmusic.licensing.tests.checkout_scene import company_buyer, place, plan_edition
from backgroundmusic.staffroles.roles import StaffRole
from tests.test_page_queries import assert_page_queries

pytestmark = pytest.mark.django_db

SIZES = [3, 30]
# A cart holds at most orders.CART_MAX_LINES (20) lines, and an order is one cart.
LINE_SIZES = [3, 20]


def fill_cart(user, count: int) -> None:
    for number in range(count):
        edition = plan_edition(kind="venue", uses=["public_performance"], max_quantity=5)
        cart_add(user=user, edition_id=edition.pk, quantity=2, use_description=f"Cafe {number}")


def orders_of(user, terms, count: int) -> list[Order]:
    made = []
    for _ in range(count):
        fill_cart(user, 1)
        made.append(place(user, terms, buyer_kind=BuyerKind.LEGAL))
    return made


@pytest.mark.parametrize("count", LINE_SIZES)
def test_cart(count, client, terms, django_assert_num_queries):
    user = company_buyer()
    fill_cart(user, count)
    client.force_login(user)
    page = assert_page_queries(client, "/cart/", 14, django_assert_num_queries)
    assert page.count("data-line=") == count


@pytest.mark.parametrize("count", LINE_SIZES)
def test_checkout(count, client, terms, django_assert_num_queries):
    user = company_buyer()
    fill_cart(user, count)
    client.force_login(user)
    # The buyer's data key, which opens the profile's sealed fields, is read from the key store.
    page = assert_page_queries(client, "/checkout/", 18, django_assert_num_queries)
    assert page.count("Cafe ") == count


@pytest.mark.parametrize("count", SIZES)
def test_orders(count, client, terms, django_assert_num_queries):
    user = company_buyer()
    orders_of(user, terms, count)
    client.force_login(user)
    page = assert_page_queries(client, "/orders/", 13, django_assert_num_queries)
    assert page.count("data-order=") == count


@pytest.mark.parametrize("count", LINE_SIZES)
def test_order(count, client, terms, django_assert_num_queries):
    user = company_buyer()
    fill_cart(user, count)
    order = place(user, terms, buyer_kind=BuyerKind.LEGAL)
    client.force_login(user)
    # The lines come with their plans, tracks and the licences they renew in one query.
    page = assert_page_queries(client, f"/orders/{order.public_id}/", 15, django_assert_num_queries)
    assert page.count("Cafe ") == count


@pytest.mark.parametrize("count", SIZES)
def test_staff_orders(count, client, terms, django_assert_num_queries):
    orders_of(company_buyer(), terms, count)
    client.force_login(StaffFactory.create(role=StaffRole.LICENSING_MANAGER))
    page = assert_page_queries(client, "/staff/licensing/orders/", 24, django_assert_num_queries)
    assert page.count("data-order=") == count


@pytest.mark.parametrize("count", LINE_SIZES)
def test_staff_order(count, client, terms, django_assert_num_queries):
    user = company_buyer()
    fill_cart(user, count)
    order = place(user, terms, buyer_kind=BuyerKind.LEGAL)
    client.force_login(StaffFactory.create(role=StaffRole.LICENSING_MANAGER))
    assert_page_queries(
        client, f"/staff/licensing/orders/{order.public_id}/", 26, django_assert_num_queries
    )
