"""Concluding licence agreements from a paid order: what each one records, its document in both
languages with the hashes, the first event and the certificate; idempotency; renewal lines."""

import hashlib
import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.conf import settings

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.catalog.tests.fixtures import ready_track
from backgroundmusic.core.errors import DomainError
from backgroundmusic.licensing import agreements
from backgroundmusic.licensing.models import (
    Agreement,
    AgreementEvent,
    BuyerKind,
    Certificate,
    Currency,
    Order,
    PlanKind,
    QuantityUnit,
    Scope,
    Territory,
    Use,
)
from backgroundmusic.licensing.tests.factories import plan_edition, terms_edition
from backgroundmusic.licensing.tests.paid_orders import paid_order

pytestmark = pytest.mark.django_db

PAID = datetime(2026, 1, 31, 10, 30, tzinfo=UTC)


def text_of(html: str) -> str:
    """The words of an HTML fragment, one space between them (no-break spaces kept)."""
    return re.sub(r"[ \t\n]+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


@pytest.fixture
def buyer() -> User:
    return UserFactory.create(username="buyer")


@pytest.fixture
def track():
    return ready_track(title="Morning <Light>", catalogue_code="MW-00042")


def single_track_order(buyer: User, track, **buyer_fields) -> Order:
    edition = plan_edition(
        kind=PlanKind.SINGLE_TRACK, uses=[Use.PROJECT], territory=Territory.RUSSIA
    )
    return paid_order(
        user=buyer,
        lines=[{"edition": edition, "track": track, "use_description": 'Film "Winter"'}],
        paid_at=PAID,
        **buyer_fields,
    )


def test_a_single_track_licence_of_a_private_person(buyer, track):
    order = single_track_order(buyer, track)
    line = order.lines.get()

    [agreement] = agreements.agreements_conclude(order=order, now=PAID)

    stored = Agreement.objects.get()
    assert stored == agreement
    assert stored.number == f"BM-2026-{line.pk:06d}"
    assert stored.order_line == line
    assert stored.user == buyer
    assert stored.subject_pseudonym == order.subject_pseudonym
    assert stored.licensee_kind == BuyerKind.NATURAL
    assert stored.licensee_name == "Anna Petrova"
    assert stored.plan_edition == line.plan_edition
    assert stored.plan_edition_hash == line.plan_edition.content_hash
    assert stored.terms_edition == terms_edition()
    assert stored.terms_edition_hash == terms_edition().content_hash
    assert stored.scope == Scope.TRACK
    assert stored.track == track
    assert stored.uses == [Use.PROJECT]
    assert stored.territory == Territory.RUSSIA
    assert stored.quantity == 1
    assert stored.use_description == 'Film "Winter"'
    assert stored.starts_at == PAID
    assert stored.concluded_at == PAID
    assert stored.paid_until is None
    assert stored.ended_at is None
    assert stored.keep_until is None
    assert stored.status == Agreement.Status.ACTIVE
    plan = line.plan_edition
    terms = terms_edition()
    assert text_of(stored.document_en) == (
        f"Licence agreement No. {stored.number} "
        "Concluded on 31 January 2026, 10:30 UTC at the moment the order was paid. "
        "1. The parties "
        "Licensor: MUSWAY STUDIO Limited Liability Company, office 12, 7 Muzykalny proezd, "
        "Moscow 125009, Russia. "
        "Licensee: Anna Petrova, a private person. "
        "2. What is licensed "
        "The Licensor grants the Licensee a non-exclusive licence to use the music named below "
        "in the ways, in the territory and for the term stated below, on the licence terms "
        '"Licence terms", edition test-1, which the Licensee accepted on '
        "31 January 2026, 10:30 UTC and which are part of this agreement. "
        f"Plan {plan.title_en}, edition 1 "
        'Music The track "Morning &lt;Light&gt;", catalogue code MW-00042 '
        "Uses One named project in any medium "
        "Territory Russian Federation "
        "Quantity 1 licence "
        "Venue, channel or project Film &quot;Winter&quot; "
        "3. Term Perpetual, from 31 January 2026, 10:30 UTC. "
        "4. Price "
        "Price of one unit, VAT not included 990.00\xa0RUB "
        "Amount, VAT not included 990.00\xa0RUB "
        "VAT at 20.00% 198.00\xa0RUB "
        "Total 1,188.00\xa0RUB "
        "5. Identification of the documents "
        "Each edition is identified by the SHA-256 hash of its content. "
        f"Plan edition {plan.content_hash} "
        f"Licence terms edition {terms.content_hash}"
    )
    assert text_of(stored.document_ru) == (
        f"Лицензионный договор № {stored.number} "
        "Заключён 31 января 2026, 10:30 UTC, в момент оплаты заказа. "
        "1. Стороны "
        "Лицензиар: Общество с ограниченной ответственностью «Мьюзвей Студио», 125009, Россия, "
        "Москва, Музыкальный проезд, д. 7, офис 12. "
        "Лицензиат: Anna Petrova, частное лицо. "
        "2. Предмет договора "
        "Лицензиар предоставляет Лицензиату простую (неисключительную) лицензию на "
        "использование указанной ниже музыки указанными ниже способами, на указанной "
        "территории и в указанный срок на условиях лицензии «Условия лицензии», редакция "
        "test-1, которые Лицензиат принял 31 января 2026, 10:30 UTC и которые являются частью "
        "этого договора. "
        f"Тариф {plan.title_ru}, редакция 1 "
        "Музыка Трек «Morning &lt;Light&gt;», код в каталоге MW-00042 "
        "Использование Один названный проект в любом формате "
        "Территория Российская Федерация "
        "Количество 1 лицензия "
        "Заведение, канал или проект Film &quot;Winter&quot; "
        "3. Срок Бессрочно, с 31 января 2026, 10:30 UTC. "
        "4. Цена "
        "Цена единицы без НДС 990,00\xa0₽ "
        "Сумма без НДС 990,00\xa0₽ "
        "НДС 20,00% 198,00\xa0₽ "
        "Итого 1\xa0188,00\xa0₽ "
        "5. Идентификация документов "
        "Каждая редакция идентифицируется хешем SHA-256 её содержания. "
        f"Редакция тарифа {plan.content_hash} "
        f"Редакция условий лицензии {terms.content_hash}"
    )
    canonical = json.dumps(
        {"en": stored.document_en, "ru": stored.document_ru},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    assert stored.document_hash == hashlib.sha256(canonical.encode()).hexdigest()
    assert agreements.agreement_document_hash_matches(agreement=stored)
    assert list(AgreementEvent.objects.values_list("status_from", "status_to", "paid_until")) == [
        ("", Agreement.Status.ACTIVE, None)
    ]
    certificate = Certificate.objects.get()
    assert certificate.agreement == stored
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", certificate.public_id)
    assert certificate.licensee_display == Certificate.Display.PRIVATE_PERSON
    assert certificate.created_at == PAID


def test_a_company_is_the_licensee_of_a_monthly_venue_plan_for_a_calendar_month(buyer):
    edition = plan_edition(
        kind=PlanKind.VENUE,
        uses=[Use.PUBLIC_PERFORMANCE],
        quantity_unit=QuantityUnit.LOCATION,
        max_quantity=10,
    )
    order = paid_order(
        user=buyer,
        lines=[{"edition": edition, "quantity": 3, "use_description": "Cafe on Tverskaya"}],
        paid_at=PAID,
        buyer_kind=BuyerKind.LEGAL,
        currency=Currency.EUR,
    )

    [agreement] = agreements.agreements_conclude(order=order, now=PAID)

    assert agreement.licensee_kind == BuyerKind.LEGAL
    assert agreement.licensee_name == "Cafe Aroma LLC"
    assert agreement.scope == Scope.CATALOGUE
    assert agreement.track is None
    assert agreement.quantity == 3
    # 31 January + one calendar month is the last day of February.
    assert agreement.paid_until == datetime(2026, 2, 28, 10, 30, tzinfo=UTC)
    assert agreement.certificate.licensee_display == Certificate.Display.COMPANY
    english = text_of(agreement.document_en)
    assert (
        "Licensee: Cafe Aroma LLC; INN: 7701234567; KPP: 770101001; 1 Tverskaya St, Moscow; "
        "ordered by Anna Petrova." in english
    )
    assert "Music The whole catalogue of the Licensor" in english
    assert "Quantity 3 locations" in english
    assert (
        "3. Term A monthly subscription from 31 January 2026, 10:30 UTC, paid until "
        "28 February 2026, 10:30 UTC." in english
    )
    assert "Price of one unit for one month, VAT not included 9.90\xa0EUR" in english
    assert "Amount, VAT not included 29.70\xa0EUR VAT at 20.00% 5.94\xa0EUR" in english
    assert "Total 35.64\xa0EUR" in english
    russian = text_of(agreement.document_ru)
    assert "Количество 3 точки" in russian
    assert "оплачена до 28 февраля 2026, 10:30 UTC" in russian
    assert list(AgreementEvent.objects.values_list("status_to", "paid_until")) == [
        (Agreement.Status.ACTIVE, agreement.paid_until)
    ]


def test_the_operators_registration_numbers_appear_once_filled_in(buyer, track):
    settings.OPERATOR_DETAILS = {**settings.OPERATOR_DETAILS, "registration": "1027700000000"}
    try:
        [agreement] = agreements.agreements_conclude(
            order=single_track_order(buyer, track), now=PAID
        )
    finally:
        settings.OPERATOR_DETAILS = {**settings.OPERATOR_DETAILS, "registration": ""}
    assert "Moscow 125009, Russia; OGRN, INN: 1027700000000." in text_of(agreement.document_en)
    assert "офис 12; ОГРН, ИНН: 1027700000000." in text_of(agreement.document_ru)


def test_one_agreement_per_line_in_line_order_and_a_second_call_changes_nothing(buyer, track):
    order = paid_order(
        user=buyer,
        lines=[
            {"edition": plan_edition(kind=PlanKind.CREATOR)},
            {"edition": plan_edition(kind=PlanKind.SINGLE_TRACK), "track": track},
        ],
        paid_at=PAID,
    )
    first = agreements.agreements_conclude(order=order, now=PAID)
    rows = list(Agreement.objects.order_by("pk").values())
    certificates = list(Certificate.objects.order_by("pk").values())

    again = agreements.agreements_conclude(order=order, now=datetime(2026, 2, 1, tzinfo=UTC))

    assert [a.order_line.position for a in first] == [1, 2]
    assert again == first
    assert list(Agreement.objects.order_by("pk").values()) == rows
    assert list(Certificate.objects.order_by("pk").values()) == certificates
    assert AgreementEvent.objects.count() == 2
    assert len({a.number for a in first}) == 2
    assert len({c["public_id"] for c in certificates}) == 2


@pytest.mark.parametrize(
    "status", [Order.Status.AWAITING_PAYMENT, Order.Status.CANCELLED, Order.Status.REFUNDED]
)
def test_an_order_not_paid_concludes_nothing(buyer, track, status):
    order = single_track_order(buyer, track)
    Order.objects.filter(pk=order.pk).update(status=status)

    with pytest.raises(DomainError) as refused:
        agreements.agreements_conclude(order=order, now=PAID)

    assert refused.value.code == "order_not_paid"
    assert not Agreement.objects.exists()
    assert not Certificate.objects.exists()


def test_a_renewal_line_extends_the_subscription_it_names(buyer):
    edition = plan_edition(kind=PlanKind.CREATOR)
    [subscription] = agreements.agreements_conclude(
        order=paid_order(user=buyer, lines=[{"edition": edition}], paid_at=PAID), now=PAID
    )
    renewed_at = datetime(2026, 2, 20, tzinfo=UTC)
    until = agreements.agreement_renewal_until(agreement=subscription, now=renewed_at)
    assert until == datetime(2026, 3, 28, 10, 30, tzinfo=UTC)
    renewal = paid_order(
        user=buyer,
        lines=[{"edition": edition, "renews": subscription, "renews_until": until}],
        paid_at=renewed_at,
    )

    [renewed] = agreements.agreements_conclude(order=renewal, now=renewed_at)
    again = agreements.agreements_conclude(order=renewal, now=renewed_at)

    assert renewed.pk == subscription.pk
    assert again == [renewed]
    assert Agreement.objects.count() == 1
    renewed.refresh_from_db()
    assert renewed.paid_until == until
    assert list(
        AgreementEvent.objects.order_by("pk").values_list("status_from", "status_to", "paid_until")
    ) == [
        ("", Agreement.Status.ACTIVE, datetime(2026, 2, 28, 10, 30, tzinfo=UTC)),
        (Agreement.Status.ACTIVE, Agreement.Status.ACTIVE, until),
    ]


def test_a_renewal_bought_after_the_paid_month_counts_from_the_purchase(buyer):
    [subscription] = agreements.agreements_conclude(
        order=paid_order(user=buyer, lines=[{"edition": plan_edition()}], paid_at=PAID), now=PAID
    )
    late = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    assert agreements.agreement_renewal_until(agreement=subscription, now=late) == datetime(
        2026, 4, 10, 9, 0, tzinfo=UTC
    )


def test_keep_until_is_the_end_of_the_fifth_year_after_the_end():
    assert agreements.agreement_keep_until(ended_at=datetime(2026, 1, 1, 0, 0, tzinfo=UTC)) == date(
        2031, 12, 31
    )
    assert agreements.agreement_keep_until(
        ended_at=datetime(2026, 12, 31, 23, 59, tzinfo=UTC)
    ) == date(2031, 12, 31)


def test_amounts_in_the_document_are_the_lines_own(buyer):
    edition = plan_edition(price_rub=Decimal("333.33"), vat_rate=Decimal("20.00"))
    order = paid_order(user=buyer, lines=[{"edition": edition, "quantity": 1}], paid_at=PAID)
    [agreement] = agreements.agreements_conclude(order=order, now=PAID)
    line = order.lines.get()
    assert (line.net_amount, line.vat_amount, line.gross_amount) == (
        Decimal("333.33"),
        Decimal("66.67"),
        Decimal("400.00"),
    )
    assert "VAT at 20.00% 66.67\xa0RUB Total 400.00\xa0RUB" in text_of(agreement.document_en)
