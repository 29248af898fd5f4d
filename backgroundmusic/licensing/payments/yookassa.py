"""Card payments through YooKassa, on its official Python SDK (`yookassa` on PyPI).

Payments are two-stage (`capture: false`): the buyer pays on YooKassa's page, the payment waits
for capture, and the service captures it after re-reading it and checking it against the order,
or cancels it (YooKassa cancels only a payment waiting for capture).

What the SDK is used for, and where it is worked around (version pinned in pyproject.toml):
- its resource classes `Payment` and `Refund` make every call (create, find_one, capture,
  cancel), with its request models (validation, the JSON shape) and the `Idempotence-Key`
  header it sets from the key we pass (without one it would make a random key, so a retry
  would pay twice: every call here passes ours);
- its `ApiClient` builds the Basic authorization and the YM-User-Agent header.
- Not its `Configuration`: that is process-wide class state, and `ApiClient()` reads it, so
  `_ShopClient` takes the shop's settings itself and the resource classes are bound to it
  (`_bound`). The API URL is ours (`YOOKASSA_API_URL`), which is how tests reach the double.
- Not its transport: it sends with no timeout (`Configuration.timeout` is the back-off between
  retries of a 202, not a network timeout), and a failed connection comes out as
  AttributeError (it reads `.response` of the requests exception). `_ShopClient.request` sends
  with `YOOKASSA_TIMEOUT_SECONDS` and turns every failure into ProviderUnavailable or
  ProviderRejected.
- Amounts: the SDK's `Amount` passes values through float; amounts stay below 10^13
  (base.AMOUNT_LIMIT), where that is exact, and each request's value is checked against ours.

Webhooks are read by `parse_notification` for their event and object id only (YooKassa signs
nothing; the service re-reads the object with get_payment or get_refund).
"""

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from yookassa import Payment, Refund
from yookassa.client import ApiClient
from yookassa.domain.common import RequestObject, UserAgent
from yookassa.domain.notification import WebhookNotificationEventType
from yookassa.domain.request import PaymentRequest, RefundRequest

from backgroundmusic.core.destinations import (
    DestinationRefused,
    Purpose,
    url_destination_require,
)
from backgroundmusic.core.text import JsonRejected, TextKind, parse_json
from backgroundmusic.licensing.payments.base import (
    Notification,
    NotificationRejected,
    PaymentStatus,
    ProviderPayment,
    ProviderRefund,
    ProviderRejected,
    ProviderUnavailable,
    RefundStatus,
    amount_value,
    check_currency,
    check_idempotency_key,
)

# The events the shop subscribes to; YooKassa's ids are UUID-shaped.
EVENTS = frozenset(
    {
        WebhookNotificationEventType.PAYMENT_WAITING_FOR_CAPTURE,
        WebhookNotificationEventType.PAYMENT_SUCCEEDED,
        WebhookNotificationEventType.PAYMENT_CANCELED,
        WebhookNotificationEventType.REFUND_SUCCEEDED,
    }
)
OBJECT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
NOTIFICATION_MAX_BYTES = 64 * 1024


class _ShopClient(ApiClient):
    """The SDK's API client for one shop, with a timeout and this package's errors."""

    def __init__(self, *, api_url: str, shop_id: str, secret_key: str, timeout: float) -> None:
        # Not ApiClient.__init__: it reads the SDK's process-wide Configuration.
        self.endpoint = api_url.rstrip("/")
        self.shop_id = shop_id
        self.shop_password = secret_key
        self.auth_token = None
        self.user_agent = UserAgent()
        self.timeout = timeout

    def request(
        self,
        method: str = "",
        path: str = "",
        query_params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> Any:
        if isinstance(body, RequestObject):
            body.validate()
            body = dict(body)
        try:
            url_destination_require(self.endpoint, purpose=Purpose.PAYMENTS)
        except DestinationRefused as refused:
            raise ProviderUnavailable(str(refused)) from refused
        try:
            response = requests.request(
                method,
                self.endpoint + path,
                params=query_params,
                headers=self.prepare_request_headers(headers),
                json=body,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as error:
            raise ProviderUnavailable(
                f"YooKassa {method.upper()} {path}: {type(error).__name__}"
            ) from error
        return _answer(response, f"{method.upper()} {path}")


def _answer(response: requests.Response, call: str) -> Any:
    """The JSON of a 200, or the error its status means."""
    try:
        content = response.json()
    except ValueError:
        content = None
    if response.status_code == 200 and isinstance(content, dict):
        return content
    error = content if isinstance(content, dict) else {}
    description = str(error.get("description", ""))
    # 202: still processing; 429: too many requests; 5xx: YooKassa's fault, outcome unknown.
    if response.status_code in (202, 429) or response.status_code >= 500:
        raise ProviderUnavailable(
            f"YooKassa {call}: HTTP {response.status_code} {description}".rstrip()
        )
    if 400 <= response.status_code < 500:
        code = str(error.get("code") or f"http_{response.status_code}")
        raise ProviderRejected(
            f"YooKassa {call}: {code} {description}".rstrip(),
            code=code,
            status=response.status_code,
        )
    raise ProviderUnavailable(f"YooKassa {call}: unexpected HTTP {response.status_code}")


def _bound(resource: type, client: _ShopClient) -> Any:
    """The SDK resource class `resource` (Payment, Refund) sending through `client`: its class
    methods make an instance with cls() and call instance.client, which the SDK's own __init__
    would build from the process-wide Configuration."""

    def use_client(self: Any) -> None:
        self.client = client

    return type(resource.__name__, (resource,), {"__init__": use_client})


class YooKassaProvider:
    name = "yookassa"

    def __init__(self, *, shop_id: str, secret_key: str, api_url: str, timeout: float) -> None:
        client = _ShopClient(
            api_url=api_url, shop_id=shop_id, secret_key=secret_key, timeout=timeout
        )
        self._payments = _bound(Payment, client)
        self._refunds = _bound(Refund, client)

    @classmethod
    def from_settings(cls) -> "YooKassaProvider":
        if not (settings.YOOKASSA_SHOP_ID and settings.YOOKASSA_SECRET_KEY):
            raise ImproperlyConfigured("YooKassa needs YOOKASSA_SHOP_ID and YOOKASSA_SECRET_KEY")
        return cls(
            shop_id=settings.YOOKASSA_SHOP_ID,
            secret_key=settings.YOOKASSA_SECRET_KEY,
            api_url=settings.YOOKASSA_API_URL,
            timeout=settings.YOOKASSA_TIMEOUT_SECONDS,
        )

    def create_payment(
        self,
        *,
        amount: Decimal,
        currency: str,
        description: str,
        idempotency_key: str,
        return_url: str,
        metadata: Mapping[str, str],
    ) -> ProviderPayment:
        value = amount_value(amount)
        request = PaymentRequest(
            {
                "amount": {"value": amount, "currency": check_currency(currency)},
                "capture": False,
                "confirmation": {"type": "redirect", "return_url": return_url},
                "description": description,
                "metadata": dict(metadata),
            }
        )
        _check_sent_amount(request, value)
        response = self._payments.create(request, check_idempotency_key(idempotency_key))
        return _payment(response)

    def get_payment(self, payment_id: str) -> ProviderPayment:
        return _payment(self._payments.find_one(payment_id))

    def capture_payment(self, *, payment_id: str, idempotency_key: str) -> ProviderPayment:
        response = self._payments.capture(
            payment_id, idempotency_key=check_idempotency_key(idempotency_key)
        )
        return _payment(response)

    def cancel_payment(self, *, payment_id: str, idempotency_key: str) -> ProviderPayment:
        response = self._payments.cancel(
            payment_id, idempotency_key=check_idempotency_key(idempotency_key)
        )
        return _payment(response)

    def create_refund(
        self,
        *,
        payment_id: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
        reason: str,
    ) -> ProviderRefund:
        value = amount_value(amount)
        request = RefundRequest(
            {
                "payment_id": payment_id,
                "amount": {"value": amount, "currency": check_currency(currency)},
                "description": reason,
            }
        )
        _check_sent_amount(request, value)
        response = self._refunds.create(request, check_idempotency_key(idempotency_key))
        return _refund(response)

    def get_refund(self, refund_id: str) -> ProviderRefund:
        return _refund(self._refunds.find_one(refund_id))

    def parse_notification(self, body: bytes, headers: Mapping[str, str]) -> Notification:
        """The event and object id of a webhook body, checked for shape; nothing else is read."""
        try:
            data = parse_json(body, max_bytes=NOTIFICATION_MAX_BYTES, kind=TextKind.TEXT)
        except JsonRejected as refused:
            raise NotificationRejected(refused.message, code=refused.code) from None
        if not isinstance(data, dict) or data.get("type") != "notification":
            raise NotificationRejected("not a YooKassa notification")
        event = data.get("event")
        if not isinstance(event, str) or event not in EVENTS:
            raise NotificationRejected(f"not an event this shop takes: {event!r}")
        subject = data.get("object")
        object_id = subject.get("id") if isinstance(subject, dict) else None
        if not isinstance(object_id, str) or not OBJECT_ID.fullmatch(object_id):
            raise NotificationRejected("the notification names no object id")
        return Notification(event=event, object_id=object_id)


def _check_sent_amount(request: RequestObject, value: str) -> None:
    sent = dict(request)["amount"]["value"]
    if sent != value:
        raise ValueError(f"the SDK would send {sent} for {value}")


def _payment(response: Any) -> ProviderPayment:
    confirmation = response.confirmation
    cancellation = response.cancellation_details
    return ProviderPayment(
        id=response.id,
        status=PaymentStatus(response.status),
        amount=response.amount.value,
        currency=response.amount.currency,
        confirmation_url=getattr(confirmation, "confirmation_url", None) or "",
        paid=bool(response.paid),
        metadata=dict(response.metadata or {}),
        cancellation_reason=cancellation.reason if cancellation is not None else "",
    )


def _refund(response: Any) -> ProviderRefund:
    return ProviderRefund(
        id=response.id,
        payment_id=response.payment_id,
        status=RefundStatus(response.status),
        amount=response.amount.value,
        currency=response.amount.currency,
    )
