"""Renewing a subscription: when it may be renewed and how its pages say so, the renewal order
(exact totals, one at a time), and what paying it does: the same agreement continues on the
edition it was concluded on, a new one continues it on a newer edition."""

import html
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.catalog.tests.fixtures import ready_track
from backgroundmusic.core import clock
from backgroundmusic.licensing import agreements, billing, entitlements, orders, renewals
from backgroundmusic.licensing.models import (
    Agreement,
    BuyerKind,
    Certificate,
    Currency,
    Invoice,
    Order,
    PaymentMethod,
    PlanEdition,
    PlanKind,
    QuantityUnit,
    Use,
)
from backgroundmusic.licensing.orders import CheckoutError
from backgroundmusic.licensing.renewals import RenewalState
from backgroundmusic.licensing.tests.checkout_scene import (
    COMPANY_INN,
    plan_edition,
    profile_set,
)
from backgroundmusic.licensing.tests.factories import terms_edition
from backgroundmusic.licensing.tests.paid_orders import paid_order
from backgroundmusic.staffroles.roles import StaffRole
from tests.callers import ALL_CALLERS, CALLERS

pytestmark = pytest.mark.django_db

PAID = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
PAID_UNTIL = datetime(2026, 4, 10, 12, 0, tzinfo=UTC)
# Three days before the paid month ends: renewal is open.
SOON = PAID_UNTIL - timedelta(days=3)
# An hour after the paid month ended: suspended, renewal still open.
UNPAID = PAID_UNTIL + timedelta(hours=1)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(SOON, tick=False):
        yield


@pytest.fixture
def owner() -> User:
    user = UserFactory.create(username="owner", email="owner@example.com")
    profile_set(user)
    return user


@pytest.fixture
def creator() -> PlanEdition:
    """The plan on sale since before the subscription, with the licence terms in force."""
    with time_machine.travel(PAID - timedelta(days=1), tick=False):
        terms_edition()
        return plan_edition(kind=PlanKind.CREATOR)


def perpetual_licence(owner: User) -> Agreement:
    single = plan_edition(kind=PlanKind.SINGLE_TRACK, uses=[Use.PROJECT])
    [perpetual] = agreements.agreements_conclude(
        order=paid_order(
            user=owner, lines=[{"edition": single, "track": ready_track()}], paid_at=PAID
        ),
        now=PAID,
    )
    return perpetual


@pytest.fixture
def subscription(owner, creator) -> Agreement:
    [agreement] = agreements.agreements_conclude(
        order=paid_order(
            user=owner,
            lines=[{"edition": creator, "use_description": "youtube.com/@anna"}],
            paid_at=PAID,
        ),
        now=PAID,
    )
    assert agreement.paid_until == PAID_UNTIL
    return agreement


def offer_at(agreement: Agreement, at: datetime) -> renewals.RenewalOffer:
    agreement.refresh_from_db()
    return renewals.renewal_offer(agreement=agreement, now=at)


def main_words(page: str) -> str:
    main = page.split('<main id="content">', 1)[1].split("</main>", 1)[0]
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)).strip())


def renew_form(**fields: str) -> dict[str, str]:
    return {
        "currency": Currency.RUB,
        "payment_method": PaymentMethod.BANK_TRANSFER,
        "terms_edition": str(terms_edition().pk),
        "accept_terms": "on",
        **fields,
    }


def newer_edition(edition: PlanEdition, **fields) -> PlanEdition:
    """The plan's next edition, on sale from an hour ago."""
    values = {
        field.attname: getattr(edition, field.attname)
        for field in PlanEdition._meta.concrete_fields
        if not field.primary_key
    }
    values.update(
        version="2",
        content_hash="2" * 64,
        effective_at=clock.now() - timedelta(hours=1),
        price_rub=Decimal("1290.00"),
        price_eur=Decimal("12.90"),
        **fields,
    )
    return PlanEdition.objects.create(**values)


def lapse(at: datetime) -> None:
    """The hourly job as it will have run by `at`: suspended, then (30 days on) expired."""
    agreements.agreements_lapse(now=min(at, UNPAID))
    agreements.agreements_lapse(now=at)


def manager() -> User:
    return StaffFactory.create(username="orders", role=StaffRole.LICENSING_MANAGER)


# When a subscription may be renewed


def test_renewal_opens_a_week_before_the_paid_month_ends(subscription):
    early = offer_at(subscription, PAID + timedelta(days=2))
    assert (early.state, early.opens_at, early.renews_until) == (
        RenewalState.NOT_YET,
        PAID_UNTIL - timedelta(days=7),
        None,
    )
    assert offer_at(subscription, PAID_UNTIL - timedelta(days=7)).state == RenewalState.OPEN
    soon = offer_at(subscription, SOON)
    assert (soon.state, soon.status, soon.edition, soon.edition_changed, soon.renews_until) == (
        RenewalState.OPEN,
        Agreement.Status.ACTIVE,
        subscription.plan_edition,
        False,
        datetime(2026, 5, 10, 12, 0, tzinfo=UTC),
    )


def test_a_suspended_subscription_may_be_renewed_until_it_expires(subscription):
    # Before the hourly job has run, and after.
    for ran in (False, True):
        if ran:
            agreements.agreements_lapse(now=UNPAID)
        offer = offer_at(subscription, UNPAID)
        assert (offer.state, offer.status, offer.expires_at, offer.renews_until) == (
            RenewalState.OPEN,
            Agreement.Status.SUSPENDED,
            datetime(2026, 5, 10, 12, 0, tzinfo=UTC),
            # The unpaid hour is not charged: a month from now.
            datetime(2026, 5, 10, 13, 0, tzinfo=UTC),
        )
    expired_at = PAID_UNTIL + timedelta(days=30, hours=1)
    agreements.agreements_lapse(now=expired_at)
    assert offer_at(subscription, expired_at).state == RenewalState.ENDED


def test_what_else_cannot_be_renewed(owner, subscription, creator):
    agreements.agreement_cancel_renewal(user=owner, agreement=subscription, now=SOON)
    # Renewing undoes a cancelled renewal while the paid month lasts.
    assert offer_at(subscription, SOON).state == RenewalState.OPEN
    assert offer_at(subscription, UNPAID).state == RenewalState.ENDED
    creator.plan.is_offered = False
    creator.plan.save()
    assert offer_at(subscription, SOON).state == RenewalState.NOT_OFFERED
    perpetual = perpetual_licence(owner)
    assert offer_at(perpetual, SOON).state == RenewalState.PERPETUAL
    agreements.agreement_revoke(actor=None, agreement=subscription, reason="Refunded.", now=SOON)
    assert offer_at(subscription, SOON).state == RenewalState.ENDED


# The renewal order


def place(owner: User, agreement: Agreement, **choices) -> orders.RenewalPlaced:
    return orders.renewal_order_place(
        user=owner,
        agreement=agreement,
        currency=choices.pop("currency", Currency.RUB),
        payment_method=PaymentMethod.BANK_TRANSFER,
        accept_terms_edition_id=terms_edition().pk,
        ip="203.0.113.77",
        user_agent="",
        **choices,
    )


@pytest.mark.parametrize(
    ("currency", "net", "vat", "gross"),
    [
        (Currency.RUB, "990.00", "198.00", "1188.00"),
        (Currency.EUR, "9.90", "1.98", "11.88"),
    ],
)
def test_a_renewal_order_is_a_month_of_the_plan(owner, subscription, currency, net, vat, gross):
    placed = place(owner, subscription, currency=currency)
    order = placed.order
    (line,) = order.lines.all()
    assert placed.created
    assert (order.currency, order.net_total, order.vat_total, order.gross_total) == (
        currency,
        Decimal(net),
        Decimal(vat),
        Decimal(gross),
    )
    assert (line.plan_edition, line.quantity, line.use_description) == (
        subscription.plan_edition,
        1,
        "youtube.com/@anna",
    )
    assert (line.renews, line.renews_until) == (
        subscription,
        datetime(2026, 5, 10, 12, 0, tzinfo=UTC),
    )
    assert order.status == Order.Status.AWAITING_PAYMENT


def test_a_venue_renews_its_locations_and_a_company_gets_its_invoice():
    company = UserFactory.create(username="cafe")
    profile_set(company, account_type="legal", company_name="Cafe Aroma LLC", tax_id=COMPANY_INN)
    venue = plan_edition(
        kind=PlanKind.VENUE,
        uses=[Use.PUBLIC_PERFORMANCE],
        quantity_unit=QuantityUnit.LOCATION,
        max_quantity=50,
        price_rub=Decimal("1500.00"),
        price_eur=Decimal("15.00"),
    )
    [agreement] = agreements.agreements_conclude(
        order=paid_order(
            user=company,
            lines=[{"edition": venue, "quantity": 3, "use_description": "Cafe, 1 Main St"}],
            paid_at=PAID,
            buyer_kind=BuyerKind.LEGAL,
        ),
        now=PAID,
    )
    order = place(
        company, agreement, currency=Currency.EUR, tax_registration_code="770101001"
    ).order
    assert (order.buyer_kind, order.company_name, order.tax_registration_code) == (
        BuyerKind.LEGAL,
        "Cafe Aroma LLC",
        "770101001",
    )
    assert (order.net_total, order.vat_total, order.gross_total) == (
        Decimal("45.00"),
        Decimal("9.00"),
        Decimal("54.00"),
    )
    assert order.lines.get().quantity == 3
    assert Invoice.objects.filter(order=order).count() == 1


def test_a_second_renewal_gives_back_the_order_waiting_for_payment(owner, subscription):
    first = place(owner, subscription)
    second = place(owner, subscription, currency=Currency.EUR)
    assert (first.created, second.created, second.order) == (True, False, first.order)
    assert Order.objects.count() == 2  # the order that bought it, and one renewal
    # Once that order is cancelled, a new one may be placed.
    billing.order_cancel(actor=owner, order=first.order)
    third = place(owner, subscription)
    assert third.created and third.order != first.order


@pytest.mark.parametrize(
    ("at", "code"),
    [
        (PAID + timedelta(days=2), "renewal_not_open"),
        (PAID_UNTIL + timedelta(days=31), "agreement_ended"),
    ],
)
def test_a_renewal_refused_writes_nothing(owner, subscription, at, code):
    with time_machine.travel(at, tick=False):
        lapse(at)
        with pytest.raises(CheckoutError) as refused:
            place(owner, subscription)
    assert refused.value.code == code
    assert Order.objects.count() == 1


@pytest.mark.parametrize("kind", [k for k in ALL_CALLERS if k not in ("owner", "anonymous")])
def test_only_the_licensee_places_a_renewal(caller_for, kind, subscription):
    caller = caller_for(kind)
    assert caller.user is not None
    profile_set(caller.user)
    with pytest.raises(CheckoutError) as refused:
        place(caller.user, subscription)
    assert refused.value.code == "agreement_not_renewable"
    assert Order.objects.count() == 1


# What paying it does


def test_paying_a_renewal_continues_the_same_agreement(owner, subscription):
    with time_machine.travel(UNPAID, tick=False):
        agreements.agreements_lapse(now=UNPAID)
        order = place(owner, subscription).order
        billing.bank_transfer_confirm(actor=manager(), order=order, reference="r", now=UNPAID)
    subscription.refresh_from_db()
    assert (subscription.status, subscription.paid_until) == (
        Agreement.Status.ACTIVE,
        datetime(2026, 5, 10, 13, 0, tzinfo=UTC),
    )
    assert Agreement.objects.filter(user=owner).count() == 1
    assert [
        agreements.agreement_event_description(event)
        for event in agreements.agreement_history(agreement=subscription)
    ] == ["Concluded", "Suspended: the renewal is unpaid", "Renewal paid"]


def test_on_a_newer_edition_a_new_agreement_continues_the_old_one(owner, subscription, creator):
    Certificate.objects.filter(agreement=subscription).update(
        licensee_display=Certificate.Display.FULL_NAME
    )
    newer = newer_edition(creator)
    offer = offer_at(subscription, SOON)
    assert (offer.edition, offer.edition_changed) == (newer, True)
    order = place(owner, subscription).order
    (line,) = order.lines.all()
    assert (line.plan_edition, line.renews, order.gross_total) == (
        newer,
        subscription,
        Decimal("1548.00"),
    )
    paid_at = SOON + timedelta(hours=2)
    with time_machine.travel(paid_at, tick=False):
        billing.bank_transfer_confirm(actor=manager(), order=order, reference="r", now=paid_at)
    successor = Agreement.objects.get(order_line=line)
    subscription.refresh_from_db()
    assert (successor.plan_edition, successor.starts_at, successor.paid_until) == (
        newer,
        paid_at,
        # What the old one had paid ahead carries over.
        datetime(2026, 5, 10, 12, 0, tzinfo=UTC),
    )
    assert successor.certificate.licensee_display == Certificate.Display.FULL_NAME
    assert (subscription.status, subscription.ended_at) == (Agreement.Status.EXPIRED, paid_at)
    *_earlier, ended = agreements.agreement_history(agreement=subscription)
    assert agreements.agreement_event_description(ended) == (
        f"Continued by agreement {successor.number} on the plan's current edition"
    )
    assert list(entitlements.agreements_in_force(user_id=owner.pk, now=paid_at)) == [successor]
    # Concluding the paid order again changes nothing.
    events = subscription.events.count()
    assert agreements.agreements_conclude(order=order, now=paid_at + timedelta(hours=1)) == [
        successor
    ]
    assert (Agreement.objects.filter(user=owner).count(), subscription.events.count()) == (
        2,
        events,
    )
    continuation = renewals.continuation_of(agreement=successor)
    assert (continuation.continues, continuation.continued_by) == (subscription.number, "")
    continuation = renewals.continuation_of(agreement=subscription)
    assert (continuation.continues, continuation.continued_by) == ("", successor.number)


# The pages


def test_the_licence_page_says_where_renewal_stands(client, owner, subscription, creator):
    client.force_login(owner)
    path = f"/licences/{subscription.number}/"
    text = main_words(client.get(path).content.decode())
    assert (
        "Renewal The subscription is paid until 10 April 2026, 12:00 UTC. Renew it now to keep "
        "it in force without a break. Renew"
    ) in text
    newer_edition(creator)
    text = main_words(client.get(path).content.decode())
    assert (
        "The plan has a new edition (2) since this agreement was concluded. A renewal buys the "
        "new edition at its price, as a new agreement that continues this one."
    ) in text
    order = place(owner, subscription).order
    html = client.get(path).content.decode()
    assert (
        "A renewal order waits for payment. The licence continues when it is paid. Pay the renewal"
    ) in main_words(html)
    assert f'href="/orders/{order.public_id}/">Pay the renewal</a>' in html
    billing.order_cancel(actor=owner, order=order)
    with time_machine.travel(PAID + timedelta(days=2), tick=False):
        client.force_login(owner)
        text = main_words(client.get(path).content.decode())
    assert (
        "The subscription is paid until 10 April 2026, 12:00 UTC. You can renew it from "
        "3 April 2026, 12:00 UTC."
    ) in text
    with time_machine.travel(UNPAID, tick=False):
        client.force_login(owner)
        text = main_words(client.get(path).content.decode())
    assert (
        "The paid month ended on 10 April 2026, 12:00 UTC and its renewal is unpaid, so the "
        "licence is suspended: it plays no full tracks and gives no downloads. Renew it by "
        "10 May 2026, 12:00 UTC, or it expires then. "
    ) in text
    assert "If you do not mean to renew, cancel renewal: the licence then expires at once." in text


def test_my_licences_shows_renew_on_the_cards_that_may(client, owner, subscription, creator):
    other = plan_edition(kind=PlanKind.BUSINESS, uses=[Use.COMPANY_CHANNEL])
    [later] = agreements.agreements_conclude(
        order=paid_order(user=owner, lines=[{"edition": other}], paid_at=SOON), now=SOON
    )
    client.force_login(owner)
    html = client.get("/licences/").content.decode()
    assert html.count('class="button" href="/licences/') == 1
    assert f'href="/licences/{subscription.number}/renew/">Renew</a>' in html
    assert f"/licences/{later.number}/renew/" not in html
    assert "The paid month ends soon." in main_words(html)


def test_the_renew_page_states_the_month_and_its_price(client, owner, subscription):
    client.force_login(owner)
    response = client.get(f"/licences/{subscription.number}/renew/")
    assert response.status_code == 200
    text = main_words(response.content.decode())
    assert text.startswith(
        f"Licence {subscription.number} Renew licence {subscription.number} "
        "Active · paid until 10 April 2026, 12:00 UTC What the renewal buys "
        "Plan Plan "
    )
    assert (
        "Quantity 1 licence Venue, channel or project youtube.com/@anna "
        "Paid until 10 May 2026, 12:00 UTC "
        "A month costs 1,188.00 RUB (990.00 RUB and VAT 198.00 RUB) "
        "11.88 EUR (9.90 EUR and VAT 1.98 EUR)"
    ) in text
    assert "The plan's terms have changed." not in text
    html = response.content.decode()
    assert re.search(r'<input [^>]*name="currency" value="RUB"[^>]*checked', html)
    assert "Place the renewal order" in text


def test_the_renew_page_says_the_edition_changed_and_both_prices(
    client, owner, subscription, creator
):
    newer_edition(creator)
    client.force_login(owner)
    text = main_words(client.get(f"/licences/{subscription.number}/renew/").content.decode())
    assert (
        "The plan's terms have changed. This agreement was concluded on edition 1 of the plan. "
        "The edition on sale now is 2, and a renewal buys it at its price: "
        "1,548.00 RUB a month with VAT, instead of 1,188.00 RUB "
        "15.48 EUR a month with VAT, instead of 11.88 EUR "
        "An agreement's terms never change, so paying this renewal concludes a new agreement"
    ) in text
    assert (
        "A month costs 1,548.00 RUB (1,290.00 RUB and VAT 258.00 RUB) "
        "15.48 EUR (12.90 EUR and VAT 2.58 EUR)"
    ) in text


def test_renewing_from_the_page_twice_makes_one_order(client, owner, subscription):
    client.force_login(owner)
    path = f"/licences/{subscription.number}/renew/"
    first = client.post(path, renew_form())
    order = Order.objects.get(lines__renews=subscription)
    assert (first.status_code, first["Location"]) == (302, f"/orders/{order.public_id}/")
    second = client.post(path, renew_form(currency=Currency.EUR), follow=True)
    assert second.redirect_chain == [(f"/orders/{order.public_id}/", 302)]
    assert "This renewal was already ordered: it waits for payment here." in main_words(
        second.content.decode()
    )
    assert f"Renewal of licence {subscription.number}" in main_words(second.content.decode())
    assert Order.objects.filter(lines__renews=subscription).count() == 1
    # The renew page now leads to that order.
    text = main_words(client.get(path).content.decode())
    assert "A renewal order waits for payment. The licence continues when it is paid." in text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"accept_terms": ""}, "Accept the licence terms to place the order."),
        ({"currency": "XYZ"}, "Select a valid choice. XYZ is not one of the available choices."),
        (
            {"terms_edition": "999999"},
            "The licence terms changed while you were on this page. Read the new edition and "
            "accept it to place the order.",
        ),
    ],
)
def test_a_bad_renewal_form_keeps_the_page_and_writes_nothing(
    client, owner, subscription, fields, message
):
    client.force_login(owner)
    response = client.post(
        f"/licences/{subscription.number}/renew/",
        renew_form(**{"currency": Currency.EUR, **fields}),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert message in main_words(html)
    if fields.get("currency") != "XYZ":
        assert re.search(r'<input [^>]*name="currency" value="EUR"[^>]*checked', html)
    assert Order.objects.count() == 1


@pytest.mark.parametrize(
    ("at", "message"),
    [
        (PAID + timedelta(days=2), "Renewal opens 7 days before the paid month ends."),
        (
            PAID_UNTIL + timedelta(days=31),
            "This licence has ended. Choose a plan on the pricing page to license the music again.",
        ),
    ],
)
def test_renewing_when_it_may_not_be_says_why(client, owner, subscription, at, message):
    with time_machine.travel(at, tick=False):
        lapse(at)
        client.force_login(owner)
        response = client.post(f"/licences/{subscription.number}/renew/", renew_form())
    assert response.status_code == 400
    assert message in main_words(response.content.decode())
    assert Order.objects.count() == 1


def test_a_perpetual_licence_has_no_renewal(client, owner):
    perpetual = perpetual_licence(owner)
    client.force_login(owner)
    licence_page = client.get(f"/licences/{perpetual.number}/").content.decode()
    assert 'id="renewal"' not in licence_page
    path = f"/licences/{perpetual.number}/renew/"
    assert "A perpetual licence has nothing to renew." in main_words(
        client.get(path).content.decode()
    )
    assert client.post(path, renew_form()).status_code == 400
    assert Order.objects.count() == 1


def test_the_continued_and_continuing_licences_link_each_other(
    client, owner, subscription, creator
):
    newer_edition(creator)
    order = place(owner, subscription).order
    billing.bank_transfer_confirm(actor=manager(), order=order, reference="r", now=SOON)
    successor = Agreement.objects.get(order_line__order=order)
    client.force_login(owner)
    new_page = client.get(f"/licences/{successor.number}/").content.decode()
    assert (
        f'This licence continues agreement <a href="/licences/{subscription.number}/">'
        f"{subscription.number}</a>."
    ) in new_page
    old_page = client.get(f"/licences/{subscription.number}/").content.decode()
    assert (
        f'This licence has ended: agreement <a href="/licences/{successor.number}/">'
        f"{successor.number}</a> continues it."
    ) in old_page
    assert f"Continued by agreement {successor.number} on the plan's current edition" in (
        main_words(old_page)
    )


@pytest.mark.parametrize("kind", CALLERS)
def test_the_renew_page_and_action_by_caller(caller_for, kind, subscription):
    caller = caller_for(kind)
    path = f"/licences/{subscription.number}/renew/"
    shown = caller.client.get(path)
    posted = caller.client.post(path, renew_form())
    if kind == "anonymous":
        assert (shown.status_code, posted.status_code) == (302, 302)
        assert shown["Location"] == f"/accounts/login/?next={path}"
        assert Order.objects.count() == 1
    elif kind == "owner":
        order = Order.objects.get(lines__renews=subscription)
        assert shown.status_code == 200
        assert (posted.status_code, posted["Location"]) == (302, f"/orders/{order.public_id}/")
    else:
        # Another person's licence does not exist for them, whatever their role.
        assert (shown.status_code, posted.status_code) == (404, 404)
        assert Order.objects.count() == 1


def test_the_renewal_pages_in_russian(client, owner, subscription, creator):
    newer_edition(creator)
    client.force_login(owner)
    licence_text = main_words(
        client.get(f"/licences/{subscription.number}/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    )
    assert (
        "Подписка оплачена до 10 апреля 2026, 12:00 UTC. Продлите её сейчас, чтобы она "
        "действовала без перерыва."
    ) in licence_text
    renew_text = main_words(
        client.get(
            f"/licences/{subscription.number}/renew/", HTTP_ACCEPT_LANGUAGE="ru"
        ).content.decode()
    )
    assert (
        "Условия тарифа изменились. Этот договор заключён по редакции 1 тарифа. Сейчас "
        "продаётся редакция 2, и продление покупается по её цене: "
        "1\xa0548,00\xa0₽ в месяц с НДС вместо 1\xa0188,00\xa0₽"
    ).replace("\xa0", " ") in renew_text
    assert "Оформить заказ на продление" in renew_text


FUZZ = hypothesis_settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HOSTILE = st.one_of(
    st.just(""),
    st.sampled_from(["0", "-1", "1e9", "NaN", "<script>", "' OR 1=1 --", "\x00", "٣"]),
    st.text(st.characters(codec="utf-8"), max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)


@FUZZ
@given(
    currency=st.one_of(HOSTILE, st.sampled_from(["RUB", "EUR"])),
    payment_method=st.one_of(HOSTILE, st.just("bank_transfer")),
    kpp=HOSTILE,
    terms_id=st.one_of(HOSTILE, st.just("{terms}")),
    accept=st.sampled_from(["", "on", "0"]),
    page=HOSTILE,
)
def test_the_renew_form_and_the_page_number_under_fuzz(
    client, owner, subscription, currency, payment_method, kpp, terms_id, accept, page
):
    """Never a 5xx; a refused renewal writes nothing; an accepted one is the one order."""
    Order.objects.filter(lines__renews=subscription).delete()
    client.force_login(owner)
    data = {
        "currency": currency,
        "payment_method": payment_method,
        "tax_registration_code": kpp,
        "terms_edition": terms_id.replace("{terms}", str(terms_edition().pk)),
    }
    if accept:
        data["accept_terms"] = accept
    clean = {key: value.encode("utf-8", "replace").decode() for key, value in data.items()}
    status = client.post(f"/licences/{subscription.number}/renew/", clean).status_code
    assert status in (302, 400)
    placed = list(Order.objects.filter(lines__renews=subscription))
    if status == 400:
        assert placed == []
    else:
        (order,) = placed
        assert (order.currency, order.payment_method) == (currency, "bank_transfer")
    shown = client.get(
        f"/licences/{subscription.number}/", {"page": page.encode("utf-8", "replace").decode()}
    )
    assert shown.status_code in (200, 400)
