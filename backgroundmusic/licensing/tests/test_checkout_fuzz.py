"""Hypothesis on the cart and checkout forms through the test client: hostile text, quantities
and ids. Never a 5xx; a refused POST changes nothing; an accepted one stores exactly what the
rules allow."""

import pytest
from django.test import Client
from hypothesis import HealthCheck, Phase, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from backgroundmusic.core.text import TextKind, text_refusal
from backgroundmusic.licensing.editions import plan_edition_on_sale
from backgroundmusic.licensing.models import CartLine, Order
from backgroundmusic.licensing.orders import PLAN_KINDS_NAMING_USE, cart_add

pytestmark = pytest.mark.django_db

SETTINGS = hypothesis_settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)
# Found by CI: id 1 is the scene's other edition on sale.
OTHER_EDITION = {"edition": "1", "quantity": "1", "track": "", "use_description": "0"}
ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
HOSTILE = st.one_of(
    st.just(""),
    st.sampled_from(["0", "-1", "1e9", "NaN", "None", "<script>", "' OR 1=1 --", "\x00", "٣"]),
    ANY_TEXT,
    st.text(st.characters(codec="utf-8"), min_size=280, max_size=400),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)


def _post(client: Client, path: str, data: dict[str, str]) -> int:
    # Django's test client cannot encode lone surrogates; the edge fuzz covers them.
    clean = {key: value.encode("utf-8", "replace").decode() for key, value in data.items()}
    return client.post(path, clean).status_code


@SETTINGS
@example(**OTHER_EDITION)
@given(
    edition=st.one_of(HOSTILE, st.just("{venue}")),
    quantity=HOSTILE,
    track=HOSTILE,
    use_description=HOSTILE,
)
def test_cart_add_form(client, buyer, venue_plan, edition, quantity, track, use_description):
    client.force_login(buyer)
    CartLine.objects.all().delete()
    data = {
        "edition": edition.replace("{venue}", str(venue_plan.pk)),
        "quantity": quantity,
        "track": track,
        "use_description": use_description,
    }
    status = _post(client, "/cart/add/", data)
    assert status in (302, 400)
    lines = list(CartLine.objects.all())
    if status == 400:
        assert lines == []
        return
    (line,) = lines
    # The posted id may name another edition on sale in the scene: what was asked for is added.
    assert str(line.plan_edition_id) == data["edition"].strip()
    assert plan_edition_on_sale(edition_id=line.plan_edition_id) == line.plan_edition
    assert 1 <= line.quantity <= line.plan_edition.max_quantity
    assert line.use_description == use_description.strip()
    assert text_refusal(line.use_description, TextKind.LINE) is None
    if line.plan_edition.plan.kind in PLAN_KINDS_NAMING_USE:
        assert line.use_description


@SETTINGS
@given(
    buyer_kind=st.one_of(HOSTILE, st.sampled_from(["natural", "legal"])),
    currency=st.one_of(HOSTILE, st.sampled_from(["RUB", "EUR"])),
    payment_method=st.one_of(HOSTILE, st.just("bank_transfer")),
    kpp=HOSTILE,
    terms_id=st.one_of(HOSTILE, st.just("{terms}")),
    accept=st.sampled_from(["", "on", "yes", "0"]),
)
def test_checkout_form(
    client, buyer, terms, creator_plan, buyer_kind, currency, payment_method, kpp, terms_id, accept
):
    client.force_login(buyer)
    Order.objects.all().delete()
    CartLine.objects.all().delete()
    cart_add(user=buyer, edition_id=creator_plan.pk, quantity=1)
    data = {
        "buyer_kind": buyer_kind,
        "currency": currency,
        "payment_method": payment_method,
        "tax_registration_code": kpp,
        "terms_edition": terms_id.replace("{terms}", str(terms.pk)),
    }
    if accept:
        data["accept_terms"] = accept
    status = _post(client, "/checkout/", data)
    assert status in (302, 400)
    placed = list(Order.objects.all())
    if status == 400:
        assert placed == []
        assert CartLine.objects.filter(user=buyer).count() == 1
        return
    (order,) = placed
    assert (order.buyer_kind, order.currency, order.payment_method) == (
        "natural",
        currency,
        "bank_transfer",
    )
    assert order.terms_edition_id == terms.pk
    assert not CartLine.objects.filter(user=buyer).exists()
