"""The cart and order_place: what a cart may hold, and the order it becomes (exact amounts, the
buyer from the profile, the accepted terms with their evidence, the invoice of a company)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.catalog.tests.fixtures import ready_track
from backgroundmusic.core import clock
from backgroundmusic.core.text import TextRejected
from backgroundmusic.licensing import billing, orders
from backgroundmusic.licensing.models import (
    Agreement,
    BuyerKind,
    CartLine,
    Currency,
    Invoice,
    LicenceTermsEdition,
    Order,
    PaymentMethod,
    PlanEdition,
    PlanKind,
)
from backgroundmusic.licensing.orders import CheckoutError, cart_add, cart_remove
from backgroundmusic.licensing.tests.checkout_scene import (
    COMPANY_INN,
    PROPRIETOR_INN,
    company_buyer,
    place,
    plan_edition,
    profile_set,
)
from backgroundmusic.licensing.tests.factories import agreement as agreement_row
from backgroundmusic.staffroles.roles import StaffRole

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(NOW):
        yield


def test_cart_add_keeps_the_line(buyer, venue_plan):
    line = cart_add(
        user=buyer, edition_id=venue_plan.pk, quantity=7, use_description="Cafe Aroma, 1 Main St"
    )
    assert (line.user, line.plan_edition, line.quantity, line.track) == (
        buyer,
        venue_plan,
        7,
        None,
    )
    assert line.use_description == "Cafe Aroma, 1 Main St"
    assert line.added_at == NOW


@pytest.mark.parametrize("quantity", [0, -1, 51, 10**9])
def test_cart_add_refuses_a_quantity_outside_the_edition(buyer, venue_plan, quantity):
    with pytest.raises(CheckoutError) as refused:
        cart_add(user=buyer, edition_id=venue_plan.pk, quantity=quantity, use_description="Cafe")
    assert refused.value.code == "quantity_out_of_range"
    assert "from 1 to 50" in refused.value.message
    assert not CartLine.objects.exists()


def test_cart_add_refuses_an_edition_not_offered(buyer, creator_plan):
    newer = PlanEdition.objects.get(pk=creator_plan.pk)
    newer.pk = None
    newer._state.adding = True
    newer.version, newer.content_hash = "2", "f" * 64
    newer.effective_at = NOW
    newer.save()
    with pytest.raises(CheckoutError) as refused:
        cart_add(user=buyer, edition_id=creator_plan.pk, quantity=1)
    assert refused.value.code == "edition_not_offered"
    creator_plan.plan.is_offered = False
    creator_plan.plan.save()
    for edition_id in (newer.pk, 10**9):
        with pytest.raises(CheckoutError):
            cart_add(user=buyer, edition_id=edition_id, quantity=1)
    assert not CartLine.objects.exists()


def test_track_licence_needs_a_published_track_and_the_project(buyer, track_plan, track):
    with pytest.raises(CheckoutError) as refused:
        cart_add(user=buyer, edition_id=track_plan.pk, quantity=1, use_description="Film")
    assert refused.value.code == "track_required"
    draft = ready_track(published=False, slug="draft-track")
    for slug in (draft.slug, "no-such-track"):
        with pytest.raises(CheckoutError) as refused:
            cart_add(
                user=buyer,
                edition_id=track_plan.pk,
                quantity=1,
                track_slug=slug,
                use_description="Film",
            )
        assert refused.value.code == "track_unknown"
    with pytest.raises(CheckoutError) as refused:
        cart_add(user=buyer, edition_id=track_plan.pk, quantity=1, track_slug=track.slug)
    assert refused.value.code == "use_description_required"
    assert refused.value.message == "Name the project the track is licensed for."
    line = cart_add(
        user=buyer,
        edition_id=track_plan.pk,
        quantity=1,
        track_slug=track.slug,
        use_description="  Short film 'Rain'  ",
    )
    assert (line.track, line.use_description) == (track, "Short film 'Rain'")


def test_venue_licence_names_the_venue(buyer, venue_plan):
    with pytest.raises(CheckoutError) as refused:
        cart_add(user=buyer, edition_id=venue_plan.pk, quantity=1, use_description="   ")
    assert refused.value.code == "use_description_required"
    assert refused.value.message == (
        "Name the venue and its address: the licence is for that place."
    )


@pytest.mark.parametrize(
    ("text", "code"),
    [("Cafe\u202eevil", "bidi_control"), ("Cafe\nTwo", "line_break"), ("x" * 301, None)],
)
def test_use_description_goes_through_the_text_rules(buyer, venue_plan, text, code):
    with pytest.raises(CheckoutError if code is None else TextRejected) as refused:
        cart_add(user=buyer, edition_id=venue_plan.pk, quantity=1, use_description=text)
    assert refused.value.code == (code or "use_description_too_long")
    assert not CartLine.objects.exists()


def test_the_same_licence_twice_and_a_full_cart_are_refused(buyer, creator_plan):
    cart_add(user=buyer, edition_id=creator_plan.pk, quantity=1)
    with pytest.raises(CheckoutError) as refused:
        cart_add(user=buyer, edition_id=creator_plan.pk, quantity=1)
    assert refused.value.code == "already_in_cart"
    for number in range(orders.CART_MAX_LINES - 1):
        cart_add(user=buyer, edition_id=creator_plan.pk, quantity=1, use_description=f"#{number}")
    with pytest.raises(CheckoutError) as refused:
        cart_add(user=buyer, edition_id=creator_plan.pk, quantity=1, use_description="one more")
    assert refused.value.code == "cart_full"
    assert CartLine.objects.filter(user=buyer).count() == orders.CART_MAX_LINES


def test_cart_remove_touches_only_the_own_cart(buyer, creator_plan):
    other = UserFactory.create(username="other")
    mine = cart_add(user=buyer, edition_id=creator_plan.pk, quantity=1)
    theirs = cart_add(user=other, edition_id=creator_plan.pk, quantity=1)
    assert cart_remove(user=buyer, line_id=theirs.pk) is False
    assert cart_remove(user=buyer, line_id=mine.pk) is True
    assert cart_remove(user=buyer, line_id=mine.pk) is False
    assert list(CartLine.objects.values_list("pk", flat=True)) == [theirs.pk]


def test_order_place_makes_the_order_with_exact_amounts(buyer, terms, venue_plan, creator_plan):
    cart_add(user=buyer, edition_id=venue_plan.pk, quantity=7, use_description="Cafe, 1 Main St")
    cart_add(user=buyer, edition_id=creator_plan.pk, quantity=1)
    order = place(buyer, terms)
    assert (order.net_total, order.vat_total, order.gross_total) == (
        Decimal("11490.00"),
        Decimal("2298.00"),
        Decimal("13788.00"),
    )
    lines = list(order.lines.order_by("position"))
    assert [
        (
            line.position,
            line.plan_edition,
            line.quantity,
            line.unit_price,
            line.net_amount,
            line.vat_rate,
            line.vat_amount,
            line.gross_amount,
            line.plan_edition_hash,
        )
        for line in lines
    ] == [
        (
            1,
            venue_plan,
            7,
            Decimal("1500.00"),
            Decimal("10500.00"),
            Decimal("20.00"),
            Decimal("2100.00"),
            Decimal("12600.00"),
            venue_plan.content_hash,
        ),
        (
            2,
            creator_plan,
            1,
            Decimal("990.00"),
            Decimal("990.00"),
            Decimal("20.00"),
            Decimal("198.00"),
            Decimal("1188.00"),
            creator_plan.content_hash,
        ),
    ]
    assert lines[0].use_description == "Cafe, 1 Main St"
    assert not CartLine.objects.filter(user=buyer).exists()


def test_order_place_rounds_vat_per_line_half_up(buyer, terms):
    edition = plan_edition(
        kind=PlanKind.VENUE,
        min_quantity=1,
        max_quantity=10,
        price_eur=Decimal("9.99"),
        vat_rate=Decimal("20.00"),
    )
    reduced = plan_edition(price_eur=Decimal("0.25"), vat_rate=Decimal("10.00"))
    cart_add(user=buyer, edition_id=edition.pk, quantity=3, use_description="Shop")
    cart_add(user=buyer, edition_id=reduced.pk, quantity=1)
    order = place(buyer, terms, currency=Currency.EUR)
    # 3 × 9.99 = 29.97, VAT 5.994 → 5.99; 0.25 at 10 % = 0.025 → 0.03.
    assert list(order.lines.values_list("net_amount", "vat_amount", "gross_amount")) == [
        (Decimal("29.97"), Decimal("5.99"), Decimal("35.96")),
        (Decimal("0.25"), Decimal("0.03"), Decimal("0.28")),
    ]
    assert (order.currency, order.net_total, order.vat_total, order.gross_total) == (
        "EUR",
        Decimal("30.22"),
        Decimal("6.02"),
        Decimal("36.24"),
    )


def test_order_place_records_the_buyer_and_the_acceptance(buyer, terms, creator_plan):
    cart_add(user=buyer, edition_id=creator_plan.pk, quantity=1)
    order = place(buyer, terms, payment_method=PaymentMethod.BANK_TRANSFER)
    assert order.status == Order.Status.AWAITING_PAYMENT
    assert (order.buyer_kind, order.buyer_name, order.company_name, order.tax_id) == (
        BuyerKind.NATURAL,
        "Anna Petrova",
        "",
        "",
    )
    assert order.buyer_address == "125009, Russia, Moscow, 1 Tverskaya St"
    assert order.buyer_email == "buyer@example.com"
    assert (order.terms_edition, order.terms_edition_hash, order.terms_accepted_at) == (
        terms,
        terms.content_hash,
        NOW,
    )
    assert (order.terms_ip_truncated, order.terms_user_agent_family) == (
        "203.0.113.0",
        "Chrome 126",
    )
    assert order.subject_pseudonym.startswith("subject-")
    assert len(order.public_id) == 22
    assert order.keep_until == datetime(2031, 12, 31).date()
    assert not Invoice.objects.exists()


def test_public_ids_differ(buyer, terms, creator_plan):
    ids = set()
    for _number in range(5):
        cart_add(user=buyer, edition_id=creator_plan.pk, quantity=1)
        ids.add(place(buyer, terms).public_id)
    assert len(ids) == 5


def _unchanged(user, count=1):
    assert not Order.objects.exists()
    assert CartLine.objects.filter(user=user).count() == count


def test_terms_changed_since_the_page_was_shown(buyer, terms, creator_plan):
    cart_add(user=buyer, edition_id=creator_plan.pk, quantity=1)
    LicenceTermsEdition.objects.create(
        version="test-2",
        title_en="Licence terms",
        title_ru="Условия",
        body_en="New.",
        body_ru="Новые.",
        content_hash="e" * 64,
        effective_at=NOW,
        published_at=NOW,
    )
    with pytest.raises(CheckoutError) as refused:
        place(buyer, terms)
    assert refused.value.code == "terms_changed"
    _unchanged(buyer)


def test_an_edition_changed_since_it_was_added(buyer, terms, creator_plan):
    cart_add(user=buyer, edition_id=creator_plan.pk, quantity=1)
    creator_plan.plan.is_offered = False
    creator_plan.plan.save()
    with pytest.raises(CheckoutError) as refused:
        place(buyer, terms)
    assert refused.value.code == "edition_changed"
    _unchanged(buyer)


def test_empty_cart_and_unavailable_card(buyer, terms, creator_plan):
    with pytest.raises(CheckoutError) as refused:
        place(buyer, terms)
    assert refused.value.code == "cart_empty"
    cart_add(user=buyer, edition_id=creator_plan.pk, quantity=1)
    with pytest.raises(CheckoutError) as refused:
        place(buyer, terms, payment_method=PaymentMethod.CARD)
    assert refused.value.code == "payment_method_unavailable"
    _unchanged(buyer)


def test_a_private_person_without_a_name_is_sent_to_the_profile(buyer, terms, creator_plan):
    profile_set(buyer, full_name="")
    cart_add(user=buyer, edition_id=creator_plan.pk, quantity=1)
    with pytest.raises(CheckoutError) as refused:
        place(buyer, terms)
    assert refused.value.code == "full_name_missing"
    assert "/account/profile/" in refused.value.message
    _unchanged(buyer)


def test_a_company_order_gets_its_invoice(company, terms, venue_plan):
    cart_add(user=company, edition_id=venue_plan.pk, quantity=2, use_description="Cafe")
    order = place(company, terms, buyer_kind=BuyerKind.LEGAL, tax_registration_code=" 770101001 ")
    assert (order.company_name, order.tax_id, order.tax_registration_code) == (
        "Cafe Aroma LLC",
        COMPANY_INN,
        "770101001",
    )
    invoice = Invoice.objects.get(order=order)
    assert (invoice.year, invoice.number, invoice.issued_at) == (2026, 1, NOW)


@pytest.mark.parametrize(
    ("profile", "kpp", "code"),
    [
        ({"account_type": "natural"}, "", "company_details_missing"),
        ({"company_name": ""}, "", "company_details_missing"),
        ({"tax_id": "7707083894"}, "", "tax_id_invalid"),
        ({"tax_id": "77070838"}, "", "tax_id_invalid"),
        (
            {
                "address_country": "",
                "address_city": "",
                "address_street": "",
                "address_postcode": "",
            },
            "",
            "address_missing",
        ),
        ({}, "77010100", "kpp_invalid"),
        ({}, "770O01001", "kpp_invalid"),
        ({"tax_id": PROPRIETOR_INN}, "770101001", "kpp_invalid"),
        # Digits of other scripts, which a regular expression's \d would take (Hypothesis:
        # tests/fuzz/test_checkout_requisites_fuzz.py).
        ({}, "٧٧٠١٠١٠٠١", "kpp_invalid"),
        ({}, "７７０１０１００１", "kpp_invalid"),
    ],
)
def test_company_requisites_are_checked(terms, venue_plan, profile, kpp, code):
    user = company_buyer(**profile)
    cart_add(user=user, edition_id=venue_plan.pk, quantity=1, use_description="Cafe")
    with pytest.raises(CheckoutError) as refused:
        place(user, terms, buyer_kind=BuyerKind.LEGAL, tax_registration_code=kpp)
    assert refused.value.code == code
    _unchanged(user)
    assert not Invoice.objects.exists()


def test_a_sole_proprietor_orders_with_a_12_digit_inn(terms, venue_plan):
    user = company_buyer(tax_id=PROPRIETOR_INN, company_name="IP Petrova A. A.")
    cart_add(user=user, edition_id=venue_plan.pk, quantity=1, use_description="Shop")
    order = place(user, terms, buyer_kind=BuyerKind.LEGAL)
    assert (order.tax_id, order.tax_registration_code) == (PROPRIETOR_INN, "")


def test_a_kpp_may_have_letters(terms, venue_plan, company):
    cart_add(user=company, edition_id=venue_plan.pk, quantity=1, use_description="Shop")
    order = place(company, terms, buyer_kind=BuyerKind.LEGAL, tax_registration_code="7701ab001")
    assert order.tax_registration_code == "7701AB001"


def test_a_renewal_order_extends_the_subscription_when_paid(buyer, terms, creator_plan):
    manager = StaffFactory.create(role=StaffRole.LICENSING_MANAGER)
    cart_add(user=buyer, edition_id=creator_plan.pk, quantity=1)
    first = place(buyer, terms)
    billing.bank_transfer_confirm(actor=manager, order=first, reference="line 1", now=NOW)
    (agreement,) = Agreement.objects.filter(user=buyer)
    paid_until = agreement.paid_until

    # Renewal opens a week before the paid month ends.
    with clock.frozen_at(datetime(2026, 5, 30, 10, 0, tzinfo=UTC)):
        renewal = orders.renewal_order_place(
            user=buyer,
            agreement=agreement,
            currency=Currency.RUB,
            payment_method=PaymentMethod.BANK_TRANSFER,
            accept_terms_edition_id=terms.pk,
            ip="203.0.113.77",
            user_agent="",
        ).order
    (line,) = renewal.lines.all()
    assert (line.renews, line.plan_edition, line.quantity, renewal.gross_total) == (
        agreement,
        creator_plan,
        1,
        Decimal("1188.00"),
    )
    assert line.renews_until == datetime(2026, 7, 4, 10, 0, tzinfo=UTC)
    billing.bank_transfer_confirm(actor=manager, order=renewal, reference="line 2", now=NOW)
    agreement.refresh_from_db()
    assert (paid_until, agreement.paid_until) == (
        datetime(2026, 6, 4, 10, 0, tzinfo=UTC),
        datetime(2026, 7, 4, 10, 0, tzinfo=UTC),
    )
    assert Agreement.objects.filter(user=buyer).count() == 1


def test_only_the_licensee_renews(buyer, terms, creator_plan):
    other = UserFactory.create(username="not-the-licensee")
    profile_set(other)
    theirs = agreement_row(user=other, edition=creator_plan)
    with pytest.raises(CheckoutError) as refused:
        orders.renewal_order_place(
            user=buyer,
            agreement=theirs,
            currency=Currency.RUB,
            payment_method=PaymentMethod.BANK_TRANSFER,
            accept_terms_edition_id=terms.pk,
            ip="",
            user_agent="",
        )
    assert refused.value.code == "agreement_not_renewable"
    assert Order.objects.filter(user=buyer).count() == 0
