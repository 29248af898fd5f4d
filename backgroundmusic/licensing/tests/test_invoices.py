"""Invoice numbers without gaps per reporting year, under concurrent orders too, and the invoice
document."""

import threading
from datetime import UTC, datetime

import pytest
from django.db import close_old_connections, connection

from backgroundmusic.core import clock
from backgroundmusic.core.tests.pdf import pdf_text
from backgroundmusic.licensing import invoices
from backgroundmusic.licensing.models import BuyerKind, Invoice, InvoiceYear, Order
from backgroundmusic.licensing.orders import CheckoutError, cart_add
from backgroundmusic.licensing.tests.checkout_scene import (
    COMPANY_INN,
    company_buyer,
    place,
)
from backgroundmusic.licensing.tests.factories import plan_edition, terms_edition
from backgroundmusic.licensing.tests.paid_orders import paid_order

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(NOW):
        yield


def _orders(count: int) -> list[Order]:
    edition = plan_edition()
    return [
        paid_order(user=None, lines=[{"edition": edition}], paid_at=NOW, buyer_kind=BuyerKind.LEGAL)
        for _ in range(count)
    ]


@pytest.mark.django_db
def test_numbers_follow_each_other_and_restart_each_year():
    first, second, third, fourth = _orders(4)
    issued = [
        invoices.invoice_issue(order=first, now=datetime(2026, 3, 1, tzinfo=UTC)),
        invoices.invoice_issue(order=second, now=datetime(2026, 12, 31, 20, 0, tzinfo=UTC)),
        invoices.invoice_issue(order=third, now=datetime(2026, 12, 31, 21, 0, tzinfo=UTC)),
        invoices.invoice_issue(order=fourth, now=datetime(2027, 1, 2, tzinfo=UTC)),
    ]
    # 21:00 UTC on 31 December is midnight in Moscow, where the books are kept.
    assert [(each.year, each.number) for each in issued] == [
        (2026, 1),
        (2026, 2),
        (2027, 1),
        (2027, 2),
    ]
    assert [invoices.invoice_number(each) for each in issued] == [
        "2026-000001",
        "2026-000002",
        "2027-000001",
        "2027-000002",
    ]
    assert dict(InvoiceYear.objects.values_list("year", "last_number")) == {2026: 2, 2027: 2}


@pytest.mark.django_db
def test_issuing_twice_gives_the_same_invoice():
    (order,) = _orders(1)
    first = invoices.invoice_issue(order=order, now=NOW)
    assert invoices.invoice_issue(order=order, now=NOW) == first
    assert InvoiceYear.objects.get(year=2026).last_number == 1


@pytest.mark.django_db
def test_a_failed_order_gives_its_number_back(company, terms, venue_plan):
    cart_add(user=company, edition_id=venue_plan.pk, quantity=1, use_description="Cafe")
    place(company, terms, buyer_kind=BuyerKind.LEGAL)
    cart_add(user=company, edition_id=venue_plan.pk, quantity=1, use_description="Cafe")
    with pytest.raises(CheckoutError) as refused:
        place(company, terms, buyer_kind=BuyerKind.LEGAL, tax_registration_code="bad")
    assert refused.value.code == "kpp_invalid"
    order = place(company, terms, buyer_kind=BuyerKind.LEGAL)
    assert order.invoice.number == 2
    assert sorted(Invoice.objects.values_list("number", flat=True)) == [1, 2]


BUYERS = 8


def _place_concurrently(users, terms, *, parallel: bool) -> list[BaseException]:
    """Each user places their order in a thread of its own (its own database connection), all
    released at once; on SQLite one after the other (it lets one writer in at a time, and a
    second would wait on its lock rather than on ours)."""
    errors: list[BaseException] = []
    start = threading.Barrier(len(users)) if parallel else None

    def buy(user):
        try:
            if start is not None:
                start.wait(timeout=30)
            place(user, terms, buyer_kind=BuyerKind.LEGAL)
        except BaseException as error:
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    if not parallel:
        for user in users:
            buy(user)
        return errors
    threads = [threading.Thread(target=buy, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


@pytest.mark.django_db(transaction=True)
def test_concurrent_orders_get_gapless_unique_numbers():
    """On PostgreSQL the orders are placed at the same moment from eight connections; the year's
    row is made by the first of them under the race. On SQLite the same orders are placed one
    after the other, and the numbers must come out the same."""
    terms = terms_edition()
    venue = plan_edition(kind="venue", uses=["public_performance"])
    users = [company_buyer(username=f"company{number}") for number in range(BUYERS)]
    for user in users:
        cart_add(user=user, edition_id=venue.pk, quantity=1, use_description="Cafe")
    parallel = connection.vendor == "postgresql"
    errors = _place_concurrently(users, terms, parallel=parallel)
    assert errors == []
    numbers = sorted(Invoice.objects.filter(year=2026).values_list("number", flat=True))
    assert numbers == list(range(1, BUYERS + 1))
    assert InvoiceYear.objects.get(year=2026).last_number == BUYERS
    assert Order.objects.count() == BUYERS
    assert len({order.invoice.number for order in Order.objects.select_related("invoice")}) == (
        BUYERS
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            [
                "Invoice No. 2026-000001",
                "MUSWAY STUDIO Limited Liability Company",
                "Cafe Aroma LLC",
                f"INN: {COMPANY_INN}, KPP: 770101001",
                "125009, Russia, Moscow, 1 Tverskaya St",
                "Plan",
                "Cafe on Main St, 1 Tverskaya St",
                "3,000.00 RUB",
                "600.00 RUB",
                "3,600.00 RUB",
                "Total to pay",
                "Payment reference",
            ],
        ),
        (
            "ru",
            [
                "Счёт № 2026-000001",
                "Мьюзвей Студио",
                "Cafe Aroma LLC",
                "ИНН:",
                "3 600,00",
                "Итого к оплате",
                "Назначение платежа",
            ],
        ),
    ],
)
def test_the_invoice_document(company, terms, venue_plan, language, expected):
    cart_add(
        user=company,
        edition_id=venue_plan.pk,
        quantity=2,
        use_description="Cafe on Main St, 1 Tverskaya St",
    )
    order = place(company, terms, buyer_kind=BuyerKind.LEGAL, tax_registration_code="770101001")
    pdf = invoices.invoice_pdf(invoice=order.invoice, language=language)
    assert pdf.startswith(b"%PDF-")
    text = " ".join(" ".join(pdf_text(pdf)).split())
    for phrase in expected:
        assert phrase in text
    assert f"BM {order.public_id}" in text
    html = invoices.invoice_html(invoice=order.invoice, language=language)
    assert f"BM {order.public_id}" in html
