"""The cart, checkout, order and invoice pages, the providers' notification endpoint and the
staff's order pages: who may open each (every caller kind), and what each does."""

import json
import re
import uuid

import pytest
from django.urls import reverse

from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.audit.models import AuditEvent
from backgroundmusic.licensing import billing
from backgroundmusic.licensing.models import (
    Agreement,
    BuyerKind,
    CartLine,
    Order,
    Payment,
    PaymentMethod,
    PaymentNotification,
    Refund,
)
from backgroundmusic.licensing.orders import cart_add
from backgroundmusic.licensing.tests.checkout_scene import (
    BROWSER,
    company_buyer,
    place,
    profile_set,
)
from backgroundmusic.privacy.kernel.models import StaffAccessLogEntry
from backgroundmusic.staffroles.roles import StaffRole
from tests.callers import CALLERS

pytestmark = pytest.mark.django_db

MANAGER = "licensing_manager"


@pytest.fixture
def owner():
    user = UserFactory.create(username="owner", email="owner@example.com")
    profile_set(
        user,
        account_type="legal",
        company_name="Cafe Aroma LLC",
        tax_id="7707083893",
    )
    return user


@pytest.fixture
def transfer_order(owner, terms, venue_plan) -> Order:
    cart_add(user=owner, edition_id=venue_plan.pk, quantity=2, use_description="Cafe")
    return place(owner, terms, buyer_kind=BuyerKind.LEGAL)


@pytest.fixture
def other_order(terms, venue_plan) -> Order:
    other = company_buyer("bistro", company_name="Bistro LLC")
    cart_add(user=other, edition_id=venue_plan.pk, quantity=1, use_description="Bistro")
    return place(other, terms, buyer_kind=BuyerKind.LEGAL)


def expected_for_owner_page(kind: str) -> int:
    return {"anonymous": 302, "owner": 200}.get(kind, 404)


def expected_for_staff_page(kind: str) -> int:
    return {"anonymous": 302, MANAGER: 200}.get(kind, 403)


@pytest.mark.parametrize("kind", CALLERS)
@pytest.mark.parametrize("page", ["order", "order_invoice"])
def test_order_pages_belong_to_the_buyer(caller_for, kind, page, transfer_order):
    caller = caller_for(kind)
    response = caller.client.get(reverse(f"licensing:{page}", args=[transfer_order.public_id]))
    expected = expected_for_owner_page(kind)
    if page == "order_invoice" and kind == MANAGER:
        expected = 200
    assert response.status_code == expected
    if expected == 200 and page == "order_invoice":
        assert response["Content-Type"] == "application/pdf"
    logged = StaffAccessLogEntry.objects.filter(subject_id=transfer_order.user_id)
    assert logged.count() == (1 if kind == MANAGER and page == "order_invoice" else 0)


@pytest.mark.parametrize("kind", CALLERS)
@pytest.mark.parametrize("path", ["/cart/", "/checkout/", "/orders/"])
def test_own_pages_need_sign_in(caller_for, kind, path, terms):
    response = caller_for(kind).client.get(path)
    assert response.status_code == (302 if kind == "anonymous" else 200)


@pytest.mark.parametrize("kind", CALLERS)
def test_cancel_is_the_buyers(caller_for, kind, transfer_order):
    response = caller_for(kind).client.post(
        reverse("licensing:order_cancel", args=[transfer_order.public_id])
    )
    assert response.status_code == (302 if kind in ("anonymous", "owner") else 404)
    transfer_order.refresh_from_db()
    assert (transfer_order.status == Order.Status.CANCELLED) == (kind == "owner")


@pytest.mark.parametrize("kind", CALLERS)
def test_staff_order_pages(caller_for, kind, transfer_order):
    caller = caller_for(kind)
    for path in (
        reverse("licensing_staff:orders"),
        reverse("licensing_staff:order", args=[transfer_order.public_id]),
    ):
        assert caller.client.get(path).status_code == expected_for_staff_page(kind)


@pytest.mark.parametrize("kind", CALLERS)
def test_only_a_licensing_manager_confirms_a_transfer(caller_for, kind, transfer_order):
    caller = caller_for(kind)
    response = caller.client.post(
        reverse("licensing_staff:order_confirm", args=[transfer_order.public_id]),
        {"reference": "Statement 2026-05-04 line 17"},
    )
    transfer_order.refresh_from_db()
    if kind == MANAGER:
        assert response.status_code == 302
        assert transfer_order.status == Order.Status.PAID
        (payment,) = transfer_order.payments.all()
        assert (payment.provider, payment.status, payment.confirmed_by_id) == (
            "bank_transfer",
            Payment.Status.SUCCEEDED,
            caller.user.pk,
        )
        event = AuditEvent.objects.get(action="order.transfer_confirmed")
        assert (event.actor_id, event.target_id, event.reason) == (
            caller.user.pk,
            str(transfer_order.pk),
            "Statement 2026-05-04 line 17",
        )
        assert Agreement.objects.filter(order_line__order=transfer_order).count() == 1
    else:
        assert response.status_code == (302 if kind == "anonymous" else 403)
        assert transfer_order.status == Order.Status.AWAITING_PAYMENT
        assert not Payment.objects.exists()
        assert not AuditEvent.objects.filter(action="order.transfer_confirmed").exists()


@pytest.mark.parametrize("kind", CALLERS)
def test_only_a_licensing_manager_refunds_and_cancels(caller_for, kind, transfer_order):
    manager = StaffFactory.create(role=StaffRole.LICENSING_MANAGER, username="confirming")
    billing.bank_transfer_confirm(
        actor=manager, order=transfer_order, reference="line 1", now=transfer_order.created_at
    )
    payment = transfer_order.payments.get()
    caller = caller_for(kind)
    response = caller.client.post(
        reverse("licensing_staff:order_refund", args=[transfer_order.public_id]),
        {"payment": payment.pk, "amount": str(payment.amount), "reason": "Venue closed"},
    )
    transfer_order.refresh_from_db()
    if kind == MANAGER:
        assert response.status_code == 302
        refund = Refund.objects.get()
        assert (refund.status, refund.amount, refund.actor_id) == (
            Refund.Status.SUCCEEDED,
            payment.amount,
            caller.user.pk,
        )
        assert transfer_order.status == Order.Status.REFUNDED
        assert set(
            Agreement.objects.filter(order_line__order=transfer_order).values_list(
                "status", flat=True
            )
        ) == {Agreement.Status.REVOKED}
        assert AuditEvent.objects.filter(action="order.refund").count() == 1
    else:
        assert response.status_code == (302 if kind == "anonymous" else 403)
        assert transfer_order.status == Order.Status.PAID
        assert not Refund.objects.exists()


@pytest.mark.parametrize("kind", CALLERS)
def test_staff_cancel(caller_for, kind, transfer_order):
    caller = caller_for(kind)
    response = caller.client.post(
        reverse("licensing_staff:order_cancel", args=[transfer_order.public_id]),
        {"reason": "The buyer asked by phone"},
    )
    transfer_order.refresh_from_db()
    cancelled = kind == MANAGER
    assert response.status_code == (302 if kind in ("anonymous", MANAGER) else 403)
    assert (transfer_order.status == Order.Status.CANCELLED) == cancelled
    assert AuditEvent.objects.filter(action="order.cancelled").count() == int(cancelled)


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("{id}", True),
        ("{start}", True),
        ("BM {id}", True),
        ("  bm   {id} ", True),
        ("BM{id}", False),
        ("XX {id}", False),
        ("BM other", False),
    ],
)
def test_staff_find_an_order_by_its_number_or_payment_reference(
    caller_for, transfer_order, other_order, typed, found
):
    """Staff match a transfer by the reference on the bank statement: "BM <order number>"."""
    public_id = transfer_order.public_id
    query = typed.format(id=public_id, start=public_id[:6])
    page = caller_for(MANAGER).client.get(reverse("licensing_staff:orders"), {"q": query})
    assert page.status_code == 200
    listed = re.findall(r'<tr data-order="([^"]+)">', page.content.decode())
    assert listed == ([public_id] if found else [])


def test_staff_forms_keep_what_was_typed(caller_for, transfer_order):
    client = caller_for(MANAGER).client
    response = client.post(
        reverse("licensing_staff:order_confirm", args=[transfer_order.public_id]),
        {"reference": "line\u202e17"},
    )
    assert response.status_code == 400
    assert "line\u202e17" in response.content.decode()
    transfer_order.refresh_from_db()
    assert transfer_order.status == Order.Status.AWAITING_PAYMENT


def test_a_buyer_checks_out_by_bank_transfer(client, owner, terms, venue_plan):
    client.force_login(owner)
    response = client.post(
        "/cart/add/",
        {"edition": venue_plan.pk, "quantity": 3, "use_description": "Cafe Aroma, 1 Main St"},
    )
    assert response.status_code == 302
    page = client.get("/cart/?currency=EUR").content.decode()
    assert "Cafe Aroma, 1 Main St" in page
    # 3 × 15.00 EUR + 20 % VAT, shown as on the pricing page
    assert "<dd>54.00\xa0EUR</dd>" in page
    in_russian = client.get("/cart/?currency=EUR", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "<dd>54,00\xa0€</dd>" in in_russian
    checkout = client.get("/checkout/")
    assert checkout.status_code == 200
    assert "Terms." in checkout.content.decode()
    response = client.post(
        "/checkout/",
        {
            "buyer_kind": "legal",
            "currency": "EUR",
            "payment_method": "bank_transfer",
            "tax_registration_code": "770101001",
            "terms_edition": terms.pk,
            "accept_terms": "on",
        },
        HTTP_USER_AGENT=BROWSER,
    )
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/orders/{order.public_id}/"
    assert (order.currency, order.gross_total, order.terms_user_agent_family) == (
        "EUR",
        54,
        "Chrome 126",
    )
    detail = client.get(response["Location"]).content.decode()
    assert f"BM {order.public_id}" in detail
    assert "Invoice No. 2026" in detail or "Invoice No. 20" in detail
    assert not CartLine.objects.exists()


def test_choosing_a_plan_already_in_the_cart_leads_to_the_cart(client, owner, creator_plan):
    client.force_login(owner)
    first = client.post("/cart/add/", {"edition": creator_plan.pk, "quantity": 1})
    again = client.post("/cart/add/", {"edition": creator_plan.pk, "quantity": 1}, follow=True)
    assert (first.status_code, again.redirect_chain) == (302, [("/cart/", 302)])
    assert again.content.decode().count("This licence is already in your cart.") == 1
    assert CartLine.objects.filter(user=owner).count() == 1


def test_a_refused_line_shows_its_reason_once(client, owner, venue_plan):
    client.force_login(owner)
    response = client.post("/cart/add/", {"edition": venue_plan.pk, "quantity": 1})
    assert response.status_code == 400
    reason = "Name the venue and its address: the licence is for that place."
    assert response.content.decode().count(reason) == 1
    assert not CartLine.objects.exists()


BANK_DETAILS = {
    "tax_id": "7701234567",
    "tax_registration_code": "770101001",
    "bank_name": "Bank of the test",
    "bank_bic": "044525225",
    "bank_account": "40702810900000000001",
    "correspondent_account": "30101810400000000225",
}
PAY_TO_THE_ACCOUNT = "Pay by bank transfer to the account below."
NO_ACCOUNT = "bank account is not set on this installation yet, so there is no account to pay into."


def test_the_order_page_shows_where_to_send_a_transfer(client, owner, transfer_order, settings):
    settings.OPERATOR_BANK_DETAILS = BANK_DETAILS
    client.force_login(owner)
    page = client.get(f"/orders/{transfer_order.public_id}/").content.decode()
    assert "<dt>Account</dt><dd>40702810900000000001</dd>" in page
    assert "<dt>BIC</dt><dd>044525225</dd>" in page
    assert (PAY_TO_THE_ACCOUNT in page, NO_ACCOUNT in page) == (True, False)


def test_without_a_bank_account_the_order_page_says_so(client, owner, transfer_order, settings):
    settings.OPERATOR_BANK_DETAILS = {key: "" for key in BANK_DETAILS}
    client.force_login(owner)
    page = client.get(f"/orders/{transfer_order.public_id}/").content.decode()
    assert (PAY_TO_THE_ACCOUNT in page, NO_ACCOUNT in page) == (False, True)
    assert "<dt>Account</dt>" not in page
    assert f'<dd id="payment-reference">BM {transfer_order.public_id}</dd>' in page


def test_checkout_keeps_the_form_on_error(client, owner, terms, venue_plan):
    client.force_login(owner)
    cart_add(user=owner, edition_id=venue_plan.pk, quantity=1, use_description="Cafe")
    response = client.post(
        "/checkout/",
        {
            "buyer_kind": "legal",
            "currency": "EUR",
            "payment_method": "bank_transfer",
            "tax_registration_code": "12345",
            "terms_edition": terms.pk,
        },
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "Accept the licence terms to place the order." in page
    assert 'value="12345"' in page
    assert 'name="currency" value="EUR" required id="id_currency_1" checked>' in page
    assert not Order.objects.exists()
    response = client.post(
        "/checkout/",
        {
            "buyer_kind": "legal",
            "currency": "EUR",
            "payment_method": "bank_transfer",
            "tax_registration_code": "12345",
            "terms_edition": terms.pk,
            "accept_terms": "on",
        },
    )
    assert response.status_code == 400
    assert "A KPP is 9 characters" in response.content.decode()
    assert not Order.objects.exists()


def ticked_payment_method(page: str) -> list[str]:
    return re.findall(r'name="payment_method" value="(\w+)"[^>]* checked>', page)


def test_a_person_is_offered_card_payment_first_when_a_card_provider_is_on(
    client, buyer, terms, creator_plan, yookassa_double
):
    client.force_login(buyer)
    cart_add(user=buyer, edition_id=creator_plan.pk, quantity=1)
    assert ticked_payment_method(client.get("/checkout/").content.decode()) == ["card"]


def test_without_a_card_provider_bank_transfer_is_ticked_for_a_person(
    client, buyer, terms, creator_plan
):
    client.force_login(buyer)
    cart_add(user=buyer, edition_id=creator_plan.pk, quantity=1)
    page = client.get("/checkout/").content.decode()
    assert ticked_payment_method(page) == ["bank_transfer"]
    assert 'value="card"' not in page


def test_a_buyer_pays_by_card_through_the_double(
    client, buyer, terms, creator_plan, yookassa_double
):
    client.force_login(buyer)
    cart_add(user=buyer, edition_id=creator_plan.pk, quantity=1)
    response = client.post(
        "/checkout/",
        {
            "buyer_kind": "natural",
            "currency": "RUB",
            "payment_method": "card",
            "terms_edition": terms.pk,
            "accept_terms": "on",
        },
    )
    order = Order.objects.get()
    payment = order.payments.get()
    assert response.status_code == 302
    assert response["Location"] == payment.confirmation_url
    yookassa_double.pay(payment.provider_payment_id)
    back = client.get(f"/orders/{order.public_id}/return/")
    assert back.status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert "Thank you: the payment arrived" in client.get(back["Location"]).content.decode()


def test_the_notification_endpoint(client, buyer, terms, creator_plan, yookassa_double):
    cart_add(user=buyer, edition_id=creator_plan.pk, quantity=1)
    order = place(buyer, terms, payment_method=PaymentMethod.CARD)
    payment = billing.payment_start(order=order, provider_name="yookassa", return_url="http://x/")
    yookassa_double.pay(payment.provider_payment_id)
    body = next(n for n in yookassa_double.notifications() if n["event"].endswith("capture"))
    body = body["body"]
    url = "/payments/yookassa/notifications"

    first = client.post(url, body, content_type="application/json")
    replay = client.post(url, body, content_type="application/json")
    forged = client.post(
        url,
        json.dumps(
            {
                "type": "notification",
                "event": "payment.succeeded",
                "object": {"id": str(uuid.uuid4())},
            }
        ),
        content_type="application/json",
    )
    malformed = client.post(url, b"{not json", content_type="application/json")
    huge = client.post(url, b" " * (65 * 1024), content_type="application/json")
    unknown = client.post("/payments/paypal/notifications", body, content_type="application/json")
    wrong_method = client.get(url)

    assert [(r.status_code, r.json()["outcome"]) for r in (first, replay, forged)] == [
        (200, "paid"),
        (200, "unchanged"),
        (200, "not_found"),
    ]
    assert (malformed.status_code, huge.status_code, unknown.status_code) == (400, 413, 404)
    assert wrong_method.status_code == 405
    assert PaymentNotification.objects.count() == 3
    yookassa_double.set_mode("fail")
    down = client.post(url, body, content_type="application/json")
    assert (down.status_code, down.json()["outcome"]) == (503, "provider_unavailable")


def test_the_notification_endpoint_is_rate_limited(client, settings, yookassa_double):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "payment_notifications": {"address": "2/m"}}
    url = "/payments/yookassa/notifications"
    codes = [client.post(url, b"{}", content_type="application/json").status_code for _ in range(3)]
    assert codes == [400, 400, 429]


@pytest.mark.parametrize(
    "body",
    [
        b'{"type": "notification", "event": "payment.succeeded\\ud800", "object": {"id": "a"}}',
        b'{"type": "notification", "event": "payment.succeeded\\u0000", "object": {"id": "a"}}',
        b'{"type": "notification", "event": "payment.\xe2\x80\xaesucceeded", "object": {}}',
        b"[" * 1000 + b"]" * 1000,
        b"\xff\xfe",
    ],
)
def test_hostile_notification_bodies_get_a_400_and_leave_no_row(client, yookassa_double, body):
    response = client.post(
        "/payments/yookassa/notifications", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert not PaymentNotification.objects.exists()
