"""The scene of the checkout tests: buyers with complete profiles, the plans on offer, the licence
terms in force and a published track. Import the fixtures a module uses from here."""

from decimal import Decimal
from typing import Any

import pytest

from backgroundmusic.accounts.models import AccountType, User
from backgroundmusic.accounts.services import ProfileData, profile_update
from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.catalog.models import Track
from backgroundmusic.catalog.tests.fixtures import ready_track
from backgroundmusic.licensing import orders
from backgroundmusic.licensing.models import (
    BuyerKind,
    Currency,
    LicenceTermsEdition,
    Order,
    PaymentMethod,
    Plan,
    PlanEdition,
    PlanKind,
    QuantityUnit,
    Use,
)
from backgroundmusic.licensing.tests import factories
from backgroundmusic.licensing.tests.factories import terms_edition

# A valid INN of a company (10 digits) and of a sole proprietor (12), check digits included.
COMPANY_INN = "7707083893"
PROPRIETOR_INN = "500100732259"
BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)


def plan_edition(*, kind: str = PlanKind.CREATOR, **fields: Any) -> PlanEdition:
    """An offered plan's edition, as factories.plan_edition makes it, with any field given."""
    made = factories.plan_edition(kind=kind, uses=fields.pop("uses", None))
    if not fields:
        return made
    values = {
        field.attname: getattr(made, field.attname)
        for field in PlanEdition._meta.concrete_fields
        if not field.primary_key
    }
    plan = Plan.objects.create(code=f"{made.plan.code}-own", kind=kind)
    values.update(plan_id=plan.pk, content_hash=f"{made.content_hash[:60]}own1", **fields)
    return PlanEdition.objects.create(**values)


def profile_set(user: User, **fields: Any) -> None:
    data = {
        "username": user.username,
        "full_name": "Anna Petrova",
        "account_type": AccountType.NATURAL,
        "company_name": "",
        "tax_id": "",
        "address_country": "Russia",
        "address_region": "",
        "address_city": "Moscow",
        "address_street": "1 Tverskaya St",
        "address_postcode": "125009",
        "social_links": [],
        **fields,
    }
    profile_update(user=user, data=ProfileData(**data))


def company_buyer(username: str = "cafe", **fields: Any) -> User:
    user = UserFactory.create(username=username)
    profile_set(
        user,
        **{
            "account_type": AccountType.LEGAL,
            "company_name": "Cafe Aroma LLC",
            "tax_id": COMPANY_INN,
            **fields,
        },
    )
    return user


@pytest.fixture
def terms() -> LicenceTermsEdition:
    return terms_edition()


@pytest.fixture
def buyer() -> User:
    user = UserFactory.create(username="buyer", email="buyer@example.com")
    profile_set(user)
    return user


@pytest.fixture
def company() -> User:
    return company_buyer()


@pytest.fixture
def creator_plan() -> PlanEdition:
    return plan_edition(kind=PlanKind.CREATOR)


@pytest.fixture
def venue_plan() -> PlanEdition:
    return plan_edition(
        kind=PlanKind.VENUE,
        uses=[Use.PUBLIC_PERFORMANCE],
        quantity_unit=QuantityUnit.LOCATION,
        min_quantity=1,
        max_quantity=50,
        price_rub=Decimal("1500.00"),
        price_eur=Decimal("15.00"),
    )


@pytest.fixture
def track_plan() -> PlanEdition:
    return plan_edition(
        kind=PlanKind.SINGLE_TRACK,
        uses=[Use.PROJECT],
        price_rub=Decimal("2490.00"),
        price_eur=Decimal("24.90"),
    )


@pytest.fixture
def track() -> Track:
    return ready_track(title="Morning Light", slug="morning-light")


def place(
    user: User,
    terms: LicenceTermsEdition,
    *,
    currency: str = Currency.RUB,
    payment_method: str = PaymentMethod.BANK_TRANSFER,
    buyer_kind: str = BuyerKind.NATURAL,
    **extra: Any,
) -> Order:
    return orders.order_place(
        user=user,
        currency=currency,
        payment_method=payment_method,
        buyer_kind=buyer_kind,
        accept_terms_edition_id=terms.pk,
        ip="203.0.113.77",
        user_agent=BROWSER,
        **extra,
    )
