"""The YooKassa adapter, on the real SDK, against the test double of YooKassa's API
(tests/yookassa_double.py, a process of its own)."""

import base64
import json
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from backgroundmusic.licensing.payments import provider_for
from backgroundmusic.licensing.payments.base import (
    Notification,
    NotificationRejected,
    PaymentProvider,
    PaymentStatus,
    ProviderPayment,
    ProviderRejected,
    ProviderUnavailable,
    RefundStatus,
)
from backgroundmusic.licensing.payments.yookassa import YooKassaProvider
from tests.destinations import declare_destination
from tests.yookassa_double import YooKassaDouble

PRICE = Decimal("990.00")
RETURN_URL = "http://127.0.0.1:8000/licences/orders/BM-1/"


@pytest.fixture
def provider(yookassa_double: YooKassaDouble) -> YooKassaProvider:
    built = provider_for("yookassa")
    assert isinstance(built, YooKassaProvider)
    return built


def _create(
    provider: PaymentProvider, key: str = "order-1-payment-1", amount: Any = PRICE
) -> ProviderPayment:
    return provider.create_payment(
        amount=amount,
        currency="RUB",
        description="Order BM-1: creator subscription",
        idempotency_key=key,
        return_url=RETURN_URL,
        metadata={"order": "BM-1"},
    )


def _paid_and_captured(provider: YooKassaProvider, double: YooKassaDouble) -> ProviderPayment:
    payment = _create(provider)
    double.pay(payment.id)
    return provider.capture_payment(payment_id=payment.id, idempotency_key="capture-1")


def test_a_payment_is_created_pending_with_the_exact_amount(provider, yookassa_double):
    payment = _create(provider)

    assert payment.status == PaymentStatus.PENDING
    assert payment.amount == PRICE
    assert payment.currency == "RUB"
    assert payment.paid is False
    assert payment.metadata == {"order": "BM-1", "cms_name": "yookassa_sdk_python"}
    assert payment.confirmation_url == f"{yookassa_double.base_url}/_double/confirm/{payment.id}"
    [stored] = yookassa_double.payments()
    assert stored["id"] == payment.id
    assert stored["amount"] == {"value": "990.00", "currency": "RUB"}
    assert stored["confirmation"]["return_url"] == RETURN_URL
    assert stored["description"] == "Order BM-1: creator subscription"


def test_a_retry_with_the_same_key_gives_the_same_payment(provider, yookassa_double):
    first = _create(provider)
    again = _create(provider)

    assert again == first
    assert len(yookassa_double.payments()) == 1


def test_the_same_key_for_another_payment_is_rejected(provider, yookassa_double):
    _create(provider)

    with pytest.raises(ProviderRejected) as rejected:
        _create(provider, amount=Decimal("991.00"))

    assert rejected.value.code == "invalid_request"
    assert rejected.value.status == 400
    assert len(yookassa_double.payments()) == 1


def test_a_paid_payment_waits_for_capture_and_capture_takes_it(provider, yookassa_double):
    payment = _create(provider)
    yookassa_double.pay(payment.id)

    waiting = provider.get_payment(payment.id)
    captured = provider.capture_payment(payment_id=payment.id, idempotency_key="capture-1")
    captured_again = provider.capture_payment(payment_id=payment.id, idempotency_key="capture-1")

    assert (waiting.status, waiting.paid) == (PaymentStatus.WAITING_FOR_CAPTURE, True)
    assert (captured.status, captured.paid, captured.amount) == (
        PaymentStatus.SUCCEEDED,
        True,
        PRICE,
    )
    assert captured_again == captured
    with pytest.raises(ProviderRejected) as rejected:
        provider.capture_payment(payment_id=payment.id, idempotency_key="capture-2")
    assert rejected.value.code == "invalid_request"


def test_a_payment_waiting_for_capture_can_be_cancelled(provider, yookassa_double):
    payment = _create(provider)
    yookassa_double.pay(payment.id)

    cancelled = provider.cancel_payment(payment_id=payment.id, idempotency_key="cancel-1")

    assert (cancelled.status, cancelled.paid, cancelled.cancellation_reason) == (
        PaymentStatus.CANCELED,
        False,
        "canceled_by_merchant",
    )
    assert provider.get_payment(payment.id) == cancelled


def test_a_pending_payment_cannot_be_cancelled_as_at_yookassa(provider, yookassa_double):
    payment = _create(provider)

    with pytest.raises(ProviderRejected) as rejected:
        provider.cancel_payment(payment_id=payment.id, idempotency_key="cancel-1")

    assert rejected.value.code == "invalid_request"
    assert provider.get_payment(payment.id).status == PaymentStatus.PENDING


def test_a_declined_card_leaves_the_payment_canceled_with_the_reason(provider, yookassa_double):
    payment = _create(provider)
    yookassa_double.decline(payment.id)

    declined = provider.get_payment(payment.id)

    assert (declined.status, declined.paid, declined.cancellation_reason) == (
        PaymentStatus.CANCELED,
        False,
        "general_decline",
    )


def test_refunds_up_to_the_amount_paid_each_once_per_key(provider, yookassa_double):
    payment = _paid_and_captured(provider, yookassa_double)

    def refund(amount: str, key: str):  # type: ignore[no-untyped-def]
        return provider.create_refund(
            payment_id=payment.id,
            amount=Decimal(amount),
            currency="RUB",
            idempotency_key=key,
            reason="Bought twice by mistake",
        )

    first = refund("490.00", "refund-1")
    first_again = refund("490.00", "refund-1")
    with pytest.raises(ProviderRejected) as too_much:
        refund("500.01", "refund-2")
    rest = refund("500.00", "refund-3")

    assert (first.status, first.amount, first.currency, first.payment_id) == (
        RefundStatus.SUCCEEDED,
        Decimal("490.00"),
        "RUB",
        payment.id,
    )
    assert first_again == first
    assert provider.get_refund(first.id) == first
    assert too_much.value.code == "invalid_request"
    assert rest.amount == Decimal("500.00")
    assert [stored["amount"]["value"] for stored in yookassa_double.refunds()] == [
        "490.00",
        "500.00",
    ]


def test_a_pending_payment_has_nothing_to_refund(provider, yookassa_double):
    payment = _create(provider)

    with pytest.raises(ProviderRejected) as rejected:
        provider.create_refund(
            payment_id=payment.id,
            amount=PRICE,
            currency="RUB",
            idempotency_key="refund-1",
            reason="Cancelled order",
        )

    assert rejected.value.code == "invalid_request"
    assert yookassa_double.refunds() == []


def test_a_failing_provider_is_unavailable_and_the_retry_makes_one_payment(
    provider, yookassa_double
):
    yookassa_double.set_mode("fail")

    with pytest.raises(ProviderUnavailable) as unavailable:
        _create(provider)

    assert "HTTP 500" in str(unavailable.value)
    assert yookassa_double.payments() == []
    yookassa_double.set_mode("up")
    payment = _create(provider)
    assert [stored["id"] for stored in yookassa_double.payments()] == [payment.id]


def test_a_hanging_provider_times_out_and_the_retry_finds_the_payment_it_made(
    settings, yookassa_double
):
    settings.YOOKASSA_TIMEOUT_SECONDS = 0.5
    provider = provider_for("yookassa")
    yookassa_double.set_mode("hang")

    started = time.monotonic()
    with pytest.raises(ProviderUnavailable) as unavailable:
        _create(provider)
    waited = time.monotonic() - started

    assert "ReadTimeout" in str(unavailable.value)
    # The double would hold the answer for 60 s; the margin is for a loaded machine.
    assert 0.5 <= waited < 5.0
    # The double did the work and lost the answer, as a provider may: the same key finds it.
    [made] = yookassa_double.payments()
    yookassa_double.set_mode("up")
    assert _create(provider).id == made["id"]
    assert len(yookassa_double.payments()) == 1


def test_no_connection_is_unavailable(settings, yookassa_double):
    # A port bound but not listening: connections to it are refused while the block runs.
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        settings.YOOKASSA_API_URL = f"http://127.0.0.1:{unused.getsockname()[1]}/v3"
        declare_destination(
            settings, host="127.0.0.1", port=unused.getsockname()[1], purpose="payments"
        )
        with pytest.raises(ProviderUnavailable) as unavailable:
            _create(provider_for("yookassa"))

    assert "ConnectionError" in str(unavailable.value)


def test_a_wrong_secret_key_is_rejected_with_yookassas_code(settings, yookassa_double):
    settings.YOOKASSA_SECRET_KEY = "not-the-key"

    with pytest.raises(ProviderRejected) as rejected:
        _create(provider_for("yookassa"))

    assert (rejected.value.code, rejected.value.status) == ("invalid_credentials", 401)
    assert yookassa_double.payments() == []


def test_an_unknown_payment_is_not_found(provider):
    with pytest.raises(ProviderRejected) as rejected:
        provider.get_payment(str(uuid.uuid4()))

    assert (rejected.value.code, rejected.value.status) == ("not_found", 404)


@pytest.mark.parametrize(
    "amount, error",
    [
        (990.0, TypeError),
        (990, TypeError),
        ("990.00", TypeError),
        (Decimal("990"), ValueError),
        (Decimal("990.0"), ValueError),
        (Decimal("990.000"), ValueError),
        (Decimal("0.00"), ValueError),
        (Decimal("-1.00"), ValueError),
        (Decimal("NaN"), ValueError),
        (Decimal("10000000000000.00"), ValueError),
    ],
)
def test_an_amount_is_a_decimal_with_two_places_never_rounded(
    provider, yookassa_double, amount, error
):
    with pytest.raises(error):
        _create(provider, amount=amount)

    assert yookassa_double.payments() == []


def test_the_largest_amount_reaches_the_provider_exactly(provider, yookassa_double):
    payment = _create(provider, amount=Decimal("9999999999999.99"))

    assert payment.amount == Decimal("9999999999999.99")
    assert yookassa_double.payments()[0]["amount"]["value"] == "9999999999999.99"


@pytest.mark.parametrize("key", ["", "k" * 65, "order 1", "заказ-1"])
def test_an_idempotency_key_is_required_and_short(provider, yookassa_double, key):
    with pytest.raises(ValueError, match="idempotency key"):
        _create(provider, key=key)

    assert yookassa_double.payments() == []


def test_a_forged_notification_gives_only_the_id_and_the_provider_tells_the_truth(
    provider, yookassa_double
):
    payment = _create(provider)
    forged = {
        "type": "notification",
        "event": "payment.succeeded",
        "object": {
            "id": payment.id,
            "status": "succeeded",
            "paid": True,
            "amount": {"value": "1.00", "currency": "RUB"},
            "metadata": {"order": "BM-2"},
        },
    }

    notification = provider.parse_notification(json.dumps(forged).encode(), {})
    reread = provider.get_payment(notification.object_id)

    assert notification == Notification(event="payment.succeeded", object_id=payment.id)
    assert (reread.status, reread.paid, reread.amount, reread.metadata["order"]) == (
        PaymentStatus.PENDING,
        False,
        PRICE,
        "BM-1",
    )


PAYMENT_ID = "2419a771-000f-5000-9000-1edaf29243f2"


@pytest.mark.parametrize(
    "body, code",
    [
        (b"not json", "not_json"),
        (b"\xff\xfe", "not_utf8"),
        (
            b'{"type": "notification", "event": "payment.succeeded", "object": {"id": "\\ud800"}}',
            "lone_surrogate",
        ),
        (b"[" * 100 + b"]" * 100, "too_deep"),
        (b'{"x": "' + b"a" * 70_000 + b'"}', "too_large"),
        (b"[]", "not_a_notification"),
        (
            json.dumps({"event": "payment.succeeded", "object": {"id": PAYMENT_ID}}).encode(),
            "not_a_notification",
        ),
        (
            json.dumps(
                {"type": "notification", "event": "payout.succeeded", "object": {"id": PAYMENT_ID}}
            ).encode(),
            "not_a_notification",
        ),
        (
            json.dumps({"type": "notification", "event": "payment.succeeded"}).encode(),
            "not_a_notification",
        ),
        (
            json.dumps(
                {"type": "notification", "event": "payment.succeeded", "object": {"id": 42}}
            ).encode(),
            "not_a_notification",
        ),
        (
            json.dumps(
                {
                    "type": "notification",
                    "event": "payment.succeeded",
                    "object": {"id": "../../v3/refunds"},
                }
            ).encode(),
            "not_a_notification",
        ),
    ],
)
def test_a_body_that_is_not_a_notification_is_refused(provider, body, code):
    with pytest.raises(NotificationRejected) as refused:
        provider.parse_notification(body, {})

    assert refused.value.code == code


def test_a_refund_notification_names_the_refund(provider):
    body = {"type": "notification", "event": "refund.succeeded", "object": {"id": PAYMENT_ID}}

    notification = provider.parse_notification(json.dumps(body).encode(), {})

    assert notification == Notification(event="refund.succeeded", object_id=PAYMENT_ID)
    assert notification.about_refund is True


class _Received(BaseHTTPRequestHandler):
    server: "_WebhookReceiver"

    def log_message(self, format, *args):  # type: ignore[no-untyped-def]
        """Quiet."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.arrived:
            self.server.bodies.append(body)
            self.server.arrived.notify_all()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


class _WebhookReceiver(ThreadingHTTPServer):
    """Stands where the shop's webhook view will be: keeps the bodies the double posts."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Received)
        self.bodies: list[bytes] = []
        self.arrived = threading.Condition()

    def wait_for(self, count: int) -> list[bytes]:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.bodies) >= count, timeout=10)
            return list(self.bodies)


@pytest.fixture
def webhook_receiver(yookassa_double: YooKassaDouble) -> Iterator[_WebhookReceiver]:
    receiver = _WebhookReceiver()
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    yookassa_double.set_webhook(f"http://127.0.0.1:{receiver.server_address[1]}/webhook")
    yield receiver
    receiver.shutdown()
    receiver.server_close()


def test_the_double_notifies_every_change_and_replays_one_byte_for_byte(
    provider, yookassa_double, webhook_receiver
):
    payment = _create(provider)

    paid = yookassa_double.pay(payment.id)
    provider.capture_payment(payment_id=payment.id, idempotency_key="capture-1")
    provider.capture_payment(payment_id=payment.id, idempotency_key="capture-1")
    delivered = webhook_receiver.wait_for(2)
    replayed = yookassa_double.resend(0)
    bodies = webhook_receiver.wait_for(3)

    assert paid["delivery"] == 200
    assert [provider.parse_notification(body, {}) for body in delivered] == [
        Notification(event="payment.waiting_for_capture", object_id=payment.id),
        Notification(event="payment.succeeded", object_id=payment.id),
    ]
    # A replay carries the old state; re-reading the payment is what tells the truth.
    assert replayed["delivery"] == 200
    assert bodies[2] == bodies[0]
    assert json.loads(bodies[2])["object"]["status"] == "waiting_for_capture"
    assert provider.get_payment(payment.id).status == PaymentStatus.SUCCEEDED


def test_the_buyer_pays_on_the_doubles_page_and_returns_to_the_shop(provider, yookassa_double):
    payment = _create(provider)

    page = requests.get(payment.confirmation_url, timeout=5)
    paid = requests.post(
        payment.confirmation_url, data={"action": "pay"}, allow_redirects=False, timeout=5
    )

    assert page.status_code == 200
    assert "YooKassa TEST DOUBLE" in page.text
    assert "990.00 RUB" in page.text
    assert (paid.status_code, paid.headers["Location"]) == (303, RETURN_URL)
    assert provider.get_payment(payment.id).status == PaymentStatus.WAITING_FOR_CAPTURE


def test_the_adapter_sets_no_process_wide_sdk_configuration(provider, yookassa_double):
    from yookassa import Configuration

    _create(provider)

    assert (Configuration.account_id, Configuration.secret_key) == (None, None)
    assert Configuration.api_url == "https://api.yookassa.ru/v3"


def test_the_double_refuses_a_post_without_an_idempotence_key(yookassa_double):
    request = urllib.request.Request(  # noqa: S310 (the double's http URL)
        f"{yookassa_double.api_url}/payments",
        data=b"{}",
        headers={
            "Content-Type": "application/json",
            "Authorization": "Basic "
            + base64.b64encode(
                f"{yookassa_double.shop_id}:{yookassa_double.secret_key}".encode()
            ).decode(),
        },
        method="POST",
    )

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)  # noqa: S310

    assert refused.value.code == 400
    assert json.loads(refused.value.read())["parameter"] == "Idempotence-Key"
