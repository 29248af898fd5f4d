"""A purchase in the person's data: "Download my data" carries the order with its line, the
invoice, the payment, the licence agreement with its history and the certificate, each with every
field, and nobody else's; the export and "Your data" in the privacy center name them in the
person's language; the order keeps the buyer as they were at checkout, as the profile page says."""

import html
import json
import re
import zipfile
from datetime import UTC, datetime
from io import BytesIO

import pytest
import time_machine
from django.test import Client
from django.utils import translation

from backgroundmusic.accounts.models import AccountType, User
from backgroundmusic.accounts.tests.factories import StaffFactory
from backgroundmusic.licensing import billing
from backgroundmusic.licensing.models import (
    Agreement,
    BuyerKind,
    Order,
    PaymentMethod,
    PlanEdition,
)
from backgroundmusic.licensing.orders import cart_add
from backgroundmusic.licensing.tests.checkout_scene import COMPANY_INN, place, profile_set
from backgroundmusic.privacy.kernel.pseudonyms import subject_pseudonym
from backgroundmusic.privacy.rights.export import export_archive
from backgroundmusic.privacy.rights.package import package_sections
from backgroundmusic.privacy.tests.test_export import records_of
from backgroundmusic.staffroles.roles import StaffRole

pytestmark = pytest.mark.django_db

PLACED = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
PAID = datetime(2027, 3, 11, 9, 30, tzinfo=UTC)
PURCHASE_LABELS = {
    "licensing.Order",
    "licensing.OrderLine",
    "licensing.Invoice",
    "licensing.Payment",
    "licensing.Agreement",
    "licensing.AgreementEvent",
    "licensing.Certificate",
    "licensing.Notice",
}


def bought(user: User, terms, edition: PlanEdition) -> Order:
    """The company's order placed at PLACED, paid by bank transfer that staff confirm at PAID."""
    with time_machine.travel(PLACED, tick=False):
        cart_add(user=user, edition_id=edition.pk, quantity=1)
        order = place(
            user,
            terms,
            payment_method=PaymentMethod.BANK_TRANSFER,
            buyer_kind=BuyerKind.LEGAL,
            tax_registration_code="770701001",
        )
        billing.payment_start(
            order=order, provider_name="bank_transfer", return_url="http://testserver/orders/"
        )
    manager = StaffFactory.create(username="manager", role=StaffRole.LICENSING_MANAGER)
    with time_machine.travel(PAID, tick=False):
        billing.bank_transfer_confirm(
            actor=manager, order=order, reference=f"BM {order.public_id}", now=PAID
        )
    order.refresh_from_db()
    return order


@pytest.fixture
def purchase(company, buyer, terms, creator_plan) -> Order:
    order = bought(company, terms, creator_plan)
    # Someone else's purchase, which the company's export must not carry.
    with time_machine.travel(PLACED, tick=False):
        cart_add(user=buyer, edition_id=creator_plan.pk, quantity=1)
        place(buyer, terms)
    return order


def test_the_export_carries_every_record_of_the_purchase_and_only_the_persons(purchase, company):
    order = purchase
    line = order.lines.get()
    agreement = Agreement.objects.get(order_line=line)
    payment = order.payments.get()
    sections = {section.key: section for section in package_sections(subject_id=company.pk)}

    assert set(sections) >= PURCHASE_LABELS
    assert {label for label in sections if label.startswith("licensing.")} == PURCHASE_LABELS
    assert sections["licensing.Order"].records() == [
        {
            "id": order.pk,
            "public_id": order.public_id,
            "user": company.pk,
            "subject_pseudonym": subject_pseudonym(subject_id=company.pk),
            "buyer_kind": "Company or sole proprietor",
            "buyer_name": "Anna Petrova",
            "company_name": "Cafe Aroma LLC",
            "tax_id": COMPANY_INN,
            "tax_registration_code": "770701001",
            "buyer_address": order.buyer_address,
            "buyer_email": company.email,
            "currency": "Russian rouble",
            "payment_method": "Bank transfer",
            "status": "Paid",
            # The edition by its name; its fingerprint is a machine's proof, not in the package.
            "terms_edition": str(order.terms_edition),
            "terms_accepted_at": "2027-03-10T12:00:00+00:00",
            "terms_ip_truncated": "203.0.113.0",
            "terms_user_agent_family": "Chrome 126",
            "net_total": "990.00",
            "vat_total": "198.00",
            "gross_total": "1188.00",
            "created_at": "2027-03-10T12:00:00+00:00",
            "paid_at": "2027-03-11T09:30:00+00:00",
            "closed_at": None,
            "keep_until": "2032-12-31",
        }
    ]
    assert "Moscow" in order.buyer_address
    assert [row["id"] for row in sections["licensing.OrderLine"].records()] == [line.pk]
    assert sections["licensing.Invoice"].records() == [
        {
            "id": order.invoice.pk,
            "order": order.pk,
            "year": 2027,
            "number": 1,
            "issued_at": "2027-03-10T12:00:00+00:00",
        }
    ]
    assert [
        (row["id"], row["status"], row["amount"]) for row in sections["licensing.Payment"].records()
    ] == [(payment.pk, "Succeeded", "1188.00")]
    [agreement_row] = sections["licensing.Agreement"].records()
    assert {
        name: agreement_row[name]
        for name in ("number", "licensee_kind", "licensee_name", "status", "starts_at")
    } == {
        "number": agreement.number,
        "licensee_kind": "Company or sole proprietor",
        "licensee_name": "Cafe Aroma LLC",
        "status": "Active",
        "starts_at": "2027-03-11T09:30:00+00:00",
    }
    assert (agreement_row["document_en"], agreement_row["document_ru"]) == (
        agreement.document_en,
        agreement.document_ru,
    )
    assert "Cafe Aroma LLC" in agreement.document_en
    assert [row["status_to"] for row in sections["licensing.AgreementEvent"].records()] == [
        "active"
    ]
    assert [row["public_id"] for row in sections["licensing.Certificate"].records()] == [
        agreement.certificate.public_id
    ]
    # Every field of each record is there, the id first.
    for label in PURCHASE_LABELS:
        names = [column.key for column in sections[label].columns]
        assert names[0] == "id"
        assert set(sections[label].records()[0]) == set(names)


def test_the_buyer_of_the_other_order_gets_only_theirs(purchase, buyer):
    sections = {section.key: section for section in package_sections(subject_id=buyer.pk)}
    [row] = sections["licensing.Order"].records()
    assert (row["buyer_kind"], row["status"], row["company_name"]) == (
        "Private person",
        "Awaiting payment",
        None,
    )
    assert "licensing.Agreement" not in sections and "licensing.Invoice" not in sections


def words(markup: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", markup))).strip()


@pytest.mark.parametrize(
    ("language", "titles", "headings"),
    [
        (
            "en",
            {"licensing.Order": "Orders", "licensing.Agreement": "Licence agreements"},
            [
                "Orders (1)",
                "Invoices (1)",
                "Licence agreements (1)",
                "History of licence agreements (1)",
                "Buyer's full name",
                "KPP",
                "Total with VAT",
                "Licensee's name",
                "Public code",
            ],
        ),
        (
            "ru",
            {"licensing.Order": "Заказы", "licensing.Agreement": "Лицензионные договоры"},
            [
                "Заказы (1)",
                "Счета (1)",
                "Лицензионные договоры (1)",
                "История лицензионных договоров (1)",
                "ФИО покупателя",
                "КПП",
                "Итого с НДС",
                "Имя или наименование лицензиата",
                "Публичный код",
            ],
        ),
    ],
)
def test_the_archive_names_the_records_in_the_persons_language(
    purchase, company, language, titles, headings
):
    with translation.override(language):
        archive = export_archive(subject_id=company.pk, generated_at=PAID)
    with zipfile.ZipFile(BytesIO(archive)) as zipped:
        data = json.loads(zipped.read("data.json"))
        index = words(zipped.read("index.html").decode())
    for label, title in titles.items():
        assert records_of(data)[label]["title"] == title
    for heading in headings:
        assert heading in index, heading


@pytest.mark.parametrize(
    ("language", "listed"),
    [
        (
            "en",
            ["orders: 1 record buyer's full name", "licence agreements: 1 record licensee's name"],
        ),
        (
            "ru",
            [
                "заказы: 1 запись ФИО покупателя",
                "лицензионные договоры: 1 запись имя или наименование лицензиата",
            ],
        ),
    ],
)
def test_your_data_in_the_privacy_center_names_them_in_the_persons_language(
    purchase, company, language, listed
):
    client = Client()
    client.force_login(company)
    page = client.get("/privacy/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    table = words(page.split('id="data-held"', 1)[1].split("</table>", 1)[0])
    for text in listed:
        assert text in table, text


@pytest.mark.parametrize(
    ("language", "note"),
    [
        (
            "en",
            "An order takes a copy of your name and address (and a company's name and tax id): "
            "the order, a company's invoice and the licence agreements keep them as they were at "
            "checkout, for the years the law requires, even if you change your profile later.",
        ),
        (
            "ru",
            "Заказ берёт копию вашего имени и адреса (а для компании — её наименования и ИНН): "
            "заказ, счёт компании и лицензионные договоры хранят их такими, какими они были при "
            "оформлении, столько лет, сколько требует закон, даже если вы потом измените профиль.",
        ),
    ],
)
def test_the_profile_says_an_order_keeps_a_copy_and_a_later_change_leaves_it(
    purchase, company, language, note
):
    order = purchase
    agreement = Agreement.objects.get(order_line__order=order)
    profile_set(
        company,
        account_type=AccountType.LEGAL,
        company_name="Cafe Aroma Renamed LLC",
        tax_id=COMPANY_INN,
        full_name="Anna Sidorova",
        address_street="2 Arbat St",
    )
    client = Client()
    client.force_login(company)
    page = client.get("/account/profile/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert note in words(page)

    order.refresh_from_db()
    agreement.refresh_from_db()
    assert (order.buyer_name, order.company_name) == ("Anna Petrova", "Cafe Aroma LLC")
    assert "1 Tverskaya St" in order.buyer_address and "Arbat" not in order.buyer_address
    assert agreement.licensee_name == "Cafe Aroma LLC"
    assert "Renamed" not in agreement.document_en + agreement.document_ru
