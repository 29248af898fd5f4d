"""Hypothesis on the checkout form with the buyer's requisites (licensing/views/checkout.py,
orders.buyer_from_profile): a profile as the profile form accepts it (natural or legal person,
full name, company, tax id, postal address), then the checkout form (buying as a private person
or a company, the KPP typed there) through the test client.

The oracle decides without the code under test: the INN's check digits are computed here, the
KPP's shape is written out in ASCII. Every example is either a clear refusal (400, the page
naming what to fix, the KPP as typed kept in the form) that leaves no order, no invoice, no
invoice-number row and the cart as it was, or an order with exactly the requisites the rules
allow and, for a company, the next invoice number. Never a 5xx.
"""

import html
import string
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, assume, event, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from backgroundmusic.accounts.forms import ProfileForm
from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.services import ProfileData, profile_update
from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.core import clock
from backgroundmusic.licensing.models import (
    CartLine,
    Invoice,
    InvoiceYear,
    LicenceTermsEdition,
    Order,
    PlanEdition,
)
from backgroundmusic.licensing.orders import cart_add
from backgroundmusic.licensing.tests.checkout_scene import (  # noqa: F401 - fixtures
    creator_plan,
    terms,
)
from tests.fuzz.test_forms_fuzz import PHASES

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
WEIGHTS_10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
WEIGHTS_11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
WEIGHTS_12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
ASCII_DIGITS = frozenset(string.digits)
KPP_LETTERS = frozenset(string.digits + string.ascii_uppercase)


def check_digit(digits: str, weights: tuple[int, ...]) -> str:
    return str(sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 % 10)


def inn_is_valid(value: str) -> bool:
    """A Russian INN: 10 ASCII digits with one check digit (a company), or 12 with two (a
    person or sole proprietor)."""
    if not value or not set(value) <= ASCII_DIGITS:
        return False
    if len(value) == 10:
        return check_digit(value[:9], WEIGHTS_10) == value[9]
    if len(value) == 12:
        return (
            check_digit(value[:10], WEIGHTS_11) == value[10]
            and check_digit(value[:11], WEIGHTS_12) == value[11]
        )
    return False


def kpp_is_valid(value: str) -> bool:
    """Four ASCII digits, two ASCII digits or capital Latin letters, three ASCII digits."""
    return (
        len(value) == 9
        and set(value[:4]) <= ASCII_DIGITS
        and set(value[4:6]) <= KPP_LETTERS
        and set(value[6:]) <= ASCII_DIGITS
    )


DIGITS = st.text(st.sampled_from(string.digits), min_size=1, max_size=1)
VALID_COMPANY_INN = st.text(st.sampled_from(string.digits), min_size=9, max_size=9).map(
    lambda head: head + check_digit(head, WEIGHTS_10)
)
VALID_PERSON_INN = (
    st.text(st.sampled_from(string.digits), min_size=10, max_size=10)
    .map(lambda head: head + check_digit(head, WEIGHTS_11))
    .map(lambda head: head + check_digit(head, WEIGHTS_12))
)


def _one_digit_changed(value: str, position: int, digit: str) -> str:
    position %= len(value)
    return value[:position] + digit + value[position + 1 :]


TAX_IDS = st.one_of(
    VALID_COMPANY_INN,
    VALID_PERSON_INN,
    # A valid INN with one digit changed (still valid when it is the same digit).
    st.builds(
        _one_digit_changed,
        st.one_of(VALID_COMPANY_INN, VALID_PERSON_INN),
        st.integers(0, 11),
        DIGITS,
    ),
    st.from_regex(r"[0-9]{5,20}", fullmatch=True),
    st.from_regex(r"[0-9A-Za-z][0-9A-Za-z\-]{3,18}[0-9A-Za-z]", fullmatch=True),
    st.sampled_from(["7707083893", "500100732259", "7707-083893", "0000000000", "77070838930"]),
)
KPP_SHAPED = st.builds(
    lambda head, middle, tail: head + middle + tail,
    st.from_regex(r"[0-9]{4}", fullmatch=True),
    st.from_regex(r"[0-9A-Z]{2}", fullmatch=True),
    st.from_regex(r"[0-9]{3}", fullmatch=True),
)
KPPS = st.one_of(
    st.just(""),
    KPP_SHAPED,
    st.just(""),
    KPP_SHAPED,
    KPP_SHAPED.map(str.lower),
    KPP_SHAPED.map(lambda kpp: f"  {kpp} "),
    # Digits of other scripts (Arabic-Indic, Devanagari, fullwidth) in a KPP's shape.
    st.text(st.sampled_from("0123456789٠١٢٣٤٥٦٧٨٩०१२३४५६७८९０１２３AZaß"), min_size=8, max_size=10),
    st.text(st.sampled_from(string.ascii_letters + string.digits + " -"), max_size=14),
)
WORD = st.text(st.sampled_from(string.ascii_letters + "ЖжЁё -."), max_size=30)
NAME = WORD.filter(str.strip)
POSTCODE = st.one_of(st.just(""), st.from_regex(r"[0-9]{6}", fullmatch=True))


@st.composite
def requisites(draw: st.DrawFn) -> dict[str, str]:
    """A profile as the profile form takes it, with what checkout needs mostly present and
    now and then missing or wrong."""
    legal = draw(st.booleans())
    full_name = draw(st.sampled_from(["", "   ", *["name"] * 10]))
    tax_id = draw(
        st.one_of(VALID_COMPANY_INN, VALID_PERSON_INN, TAX_IDS) if draw(st.booleans()) else TAX_IDS
    )
    has_address = draw(st.integers(0, 4)) > 0
    return {
        "account_type": "legal" if legal else "natural",
        "full_name": draw(NAME) if full_name == "name" else full_name,
        "company_name": draw(NAME) if legal else "",
        "tax_id": tax_id if legal else "",
        "address_country": draw(st.one_of(st.just(""), WORD)) if has_address else "",
        "address_region": draw(st.one_of(st.just(""), WORD)) if has_address else "",
        "address_city": draw(NAME) if has_address else "",
        "address_street": draw(st.one_of(st.just(""), WORD)) if has_address else "",
        "address_postcode": draw(POSTCODE) if has_address else "",
    }


@dataclass(frozen=True)
class Verdict:
    placed: bool
    says: str = ""  # what the refusal page says (HTML-escaped as the page shows it)


def verdict(profile: dict[str, str], buyer_kind: str, kpp: str) -> Verdict:
    """What checkout must do, decided from the rules as written, in the order they are asked."""
    typed = kpp.strip()
    if len(typed) > 9:
        return Verdict(False, "Ensure this value has at most 9 characters")
    if not profile["full_name"].strip():
        return Verdict(False, "your full name is missing")
    if buyer_kind == "natural":
        return Verdict(True)
    if profile["account_type"] != "legal":
        return Verdict(False, "needs a company account with its name and tax id")
    if not inn_is_valid(profile["tax_id"]):
        return Verdict(False, "is not a valid INN")
    if not postal_address(profile):
        return Verdict(False, "An invoice to a company needs its postal address.")
    typed = typed.upper()
    if typed and (len(profile["tax_id"]) != 10 or not kpp_is_valid(typed)):
        return Verdict(False, "A KPP is 9 characters")
    return Verdict(True)


def postal_address(profile: dict[str, str]) -> str:
    parts = ("address_postcode", "address_country", "address_region", "address_city")
    return ", ".join(
        value for value in (profile[name].strip() for name in (*parts, "address_street")) if value
    )


@contextmanager
def separate_example() -> Iterator[None]:
    """Each example starts from the same rows and leaves none."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
def buyer(db) -> User:
    return UserFactory.create(username="requisites")


@hypothesis_settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    phases=PHASES,
)
@given(profile=requisites(), kind_as_account=st.integers(0, 4), kpp=KPPS)
@example(
    profile={
        "account_type": "legal",
        "full_name": "Anna Petrova",
        "company_name": "Cafe Aroma LLC",
        "tax_id": "7707083893",
        "address_country": "Russia",
        "address_region": "",
        "address_city": "Moscow",
        "address_street": "1 Tverskaya St",
        "address_postcode": "125009",
    },
    kind_as_account=1,
    kpp="٧٧٠١٠١٠٠١",
)
def test_checkout_places_an_order_with_exact_requisites_or_refuses_and_writes_nothing(
    client: Client,
    buyer: User,
    terms: LicenceTermsEdition,  # noqa: F811 - the fixture
    creator_plan: PlanEdition,  # noqa: F811 - the fixture
    profile: dict[str, str],
    kind_as_account: int,
    kpp: str,
):
    # Mostly buying as the account is; now and then a private person's account buys as a
    # company, or a company's as a private person.
    other = {"legal": "natural", "natural": "legal"}[profile["account_type"]]
    buyer_kind = profile["account_type"] if kind_as_account else other
    form = ProfileForm({"username": buyer.username, **profile}, user=buyer)
    assume(form.is_valid())
    client.force_login(buyer)
    expected = verdict(profile, buyer_kind, kpp)
    with separate_example():
        profile_update(user=buyer, data=ProfileData(**form.cleaned_data, social_links=[]))
        cart_add(user=buyer, edition_id=creator_plan.pk, quantity=1)
        response = client.post(
            "/checkout/",
            {
                "buyer_kind": buyer_kind,
                "currency": "RUB",
                "payment_method": "bank_transfer",
                "tax_registration_code": kpp,
                "terms_edition": str(terms.pk),
                "accept_terms": "on",
            },
        )
        placed = list(Order.objects.select_related("invoice"))
        if not expected.placed:
            event(f"refused: {expected.says}")
            assert response.status_code == 400
            page = response.content.decode()
            assert expected.says in html.unescape(page)
            if kpp:
                assert f'value="{html.escape(kpp)}"' in page
            assert placed == []
            assert not Invoice.objects.exists()
            assert not InvoiceYear.objects.exists()
            assert CartLine.objects.filter(user=buyer).count() == 1
            return
        event(f"placed: {buyer_kind}")
        assert response.status_code == 302
        (order,) = placed
        address = postal_address(profile)
        legal = buyer_kind == "legal"
        assert (
            order.buyer_kind,
            order.buyer_name,
            order.company_name,
            order.tax_id,
            order.tax_registration_code,
            order.buyer_address,
        ) == (
            buyer_kind,
            profile["full_name"].strip(),
            profile["company_name"].strip() if legal else "",
            profile["tax_id"] if legal else "",
            kpp.strip().upper() if legal else "",
            address,
        )
        if legal:
            assert (order.invoice.year, order.invoice.number) == (2026, 1)
            assert InvoiceYear.objects.get().last_number == 1
        else:
            assert not Invoice.objects.exists()
        assert not CartLine.objects.filter(user=buyer).exists()
