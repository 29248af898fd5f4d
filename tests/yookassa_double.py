"""YooKassa's HTTP API v3 for tests: a TEST DOUBLE of the part we use, named as such.

YooKassa cannot be reached from the machines the tests run on, and a real payment cannot be made
in a test, so the adapter (licensing/payments/yookassa.py, on YooKassa's official SDK) talks to
this server over loopback. It runs as a process of its own (`python tests/yookassa_double.py
--port 0 --shop-id ID --secret-key KEY` prints "listening on PORT"), started by the fixtures at
the end of this file. Standard library only.

The API, as YooKassa documents it, for the shop given on the command line (HTTP Basic auth):
  POST /v3/payments                 capture false or true; confirmation of type "redirect"
  GET  /v3/payments/{id}
  POST /v3/payments/{id}/capture    a payment waiting for capture, the whole amount
  POST /v3/payments/{id}/cancel     a payment waiting for capture
  POST /v3/refunds                  of a succeeded payment, up to what is left; succeeds at once
  GET  /v3/refunds/{id}
Every POST needs an Idempotence-Key: the same key with the same request answers with the same
object (as it is now), the same key with another request is refused (400 invalid_request); a
key is kept only once a request has succeeded. Errors have YooKassa's shape and codes.

The buyer's page (each payment's confirmation_url): /_double/confirm/{id}, buttons Pay and
Decline, then back to the payment's return_url.

The control plane, the tests' own (no auth), under /_double/:
  POST reset                        forget everything, mode "up", no webhook URL
  POST mode {"mode": M}             "up"; "fail": every API call answers 500 and does nothing;
                                    "hang": every API call does its work and never answers (the
                                    answer is lost) until the mode changes or the reset
  POST webhook {"url": U}           where notifications go (null: nowhere)
  GET  payments, GET refunds        every object, as stored
  POST payments/{id}/pay            the buyer pays: waiting_for_capture (or succeeded)
  POST payments/{id}/decline        the card is declined: canceled
  GET  notifications                every notification made, with its exact body and delivery
  POST notifications/{n}/resend     send the n-th again, byte for byte, to the webhook URL
A change made through the control plane or the buyer's page is notified before the answer; one
made through the API (capture, cancel, refund), in the background, as YooKassa does.
"""

import argparse
import base64
import html
import json
import re
import select
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

JsonObject = dict[str, Any]
HANG_SECONDS = 60
VALUE = re.compile(r"\d{1,13}\.\d{2}")


class ApiError(Exception):
    def __init__(self, status: int, code: str, description: str, parameter: str = "") -> None:
        super().__init__(description)
        self.status = status
        self.body: JsonObject = {
            "type": "error",
            "id": str(uuid.uuid4()),
            "code": code,
            "description": description,
        }
        if parameter:
            self.body["parameter"] = parameter


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _amount(value: object, parameter: str) -> JsonObject:
    if not isinstance(value, dict):
        raise ApiError(400, "invalid_request", "Amount is required", parameter)
    if not isinstance(value.get("value"), str) or not VALUE.fullmatch(value["value"]):
        raise ApiError(400, "invalid_request", "Invalid amount value", f"{parameter}.value")
    if Decimal(value["value"]) <= 0:
        raise ApiError(400, "invalid_request", "Amount must be positive", f"{parameter}.value")
    if value.get("currency") not in ("RUB", "EUR"):
        raise ApiError(400, "invalid_request", "Invalid currency", f"{parameter}.currency")
    return {"value": value["value"], "currency": value["currency"]}


@dataclass
class Double:
    """The double's state: every object, the idempotency keys, the mode, the notifications."""

    shop_id: str
    secret_key: str
    base_url: str = ""
    lock: threading.RLock = field(default_factory=threading.RLock)
    payments: dict[str, JsonObject] = field(default_factory=dict)
    return_urls: dict[str, str] = field(default_factory=dict)
    auto_capture: set[str] = field(default_factory=set)
    refunds: dict[str, JsonObject] = field(default_factory=dict)
    # key -> (its request: method, path and canonical body; the kind and id of what it made)
    keys: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    mode: str = "up"
    released: threading.Event = field(default_factory=threading.Event)
    webhook_url: str | None = None
    notifications: list[JsonObject] = field(default_factory=list)

    def reset(self) -> None:
        with self.lock:
            self.payments.clear()
            self.return_urls.clear()
            self.auto_capture.clear()
            self.refunds.clear()
            self.keys.clear()
            self.notifications.clear()
            self.webhook_url = None
            self.set_mode("up")

    def set_mode(self, mode: str) -> None:
        if mode not in ("up", "fail", "hang"):
            raise ApiError(400, "invalid_request", f"unknown mode {mode!r}")
        self.mode = mode
        if mode == "hang":
            self.released.clear()
        else:
            self.released.set()

    def payment(self, payment_id: str) -> JsonObject:
        if payment_id not in self.payments:
            raise ApiError(404, "not_found", "Payment doesn't exist or access denied")
        return self.payments[payment_id]

    def refund(self, refund_id: str) -> JsonObject:
        if refund_id not in self.refunds:
            raise ApiError(404, "not_found", "Refund doesn't exist or access denied")
        return self.refunds[refund_id]

    def idempotent(
        self, key: str | None, request: str, make: Callable[[], tuple[str, JsonObject]]
    ) -> tuple[JsonObject, bool]:
        """The object a key made, or a new one from make() (which returns its kind and it);
        and whether it is new."""
        if not key:
            raise ApiError(400, "invalid_request", "Idempotence key is required", "Idempotence-Key")
        if key in self.keys:
            kept_request, kind, object_id = self.keys[key]
            if kept_request != request:
                raise ApiError(
                    400, "invalid_request", "Idempotence key duplicated", "Idempotence-Key"
                )
            return (self.payments if kind == "payment" else self.refunds)[object_id], False
        kind, made = make()
        self.keys[key] = (request, kind, made["id"])
        return made, True

    def create_payment(self, body: JsonObject) -> tuple[str, JsonObject]:
        amount = _amount(body.get("amount"), "amount")
        confirmation = body.get("confirmation")
        if not isinstance(confirmation, dict) or confirmation.get("type") != "redirect":
            raise ApiError(400, "invalid_request", "Only redirect confirmation", "confirmation")
        return_url = confirmation.get("return_url")
        if not isinstance(return_url, str) or not return_url.startswith(("http://", "https://")):
            raise ApiError(400, "invalid_request", "Invalid return_url", "confirmation.return_url")
        description = body.get("description", "")
        if not isinstance(description, str) or len(description) > 128:
            raise ApiError(400, "invalid_request", "Invalid description", "description")
        metadata = body.get("metadata", {})
        if not isinstance(metadata, dict) or len(metadata) > 16:
            raise ApiError(400, "invalid_request", "Invalid metadata", "metadata")
        payment_id = str(uuid.uuid4())
        payment: JsonObject = {
            "id": payment_id,
            "status": "pending",
            "paid": False,
            "amount": amount,
            "confirmation": {
                "type": "redirect",
                "return_url": return_url,
                "confirmation_url": f"{self.base_url}/_double/confirm/{payment_id}",
            },
            "created_at": _now(),
            "description": description,
            "metadata": metadata,
            "recipient": {"account_id": self.shop_id, "gateway_id": "1000001"},
            "refundable": False,
            "refunded_amount": {"value": "0.00", "currency": amount["currency"]},
            "test": True,
        }
        self.payments[payment_id] = payment
        self.return_urls[payment_id] = return_url
        if body.get("capture") is True:
            self.auto_capture.add(payment_id)
        return "payment", payment

    def capture(self, payment_id: str, body: JsonObject) -> tuple[str, JsonObject]:
        payment = self.payment(payment_id)
        if payment["status"] != "waiting_for_capture":
            raise ApiError(400, "invalid_request", f"Payment is {payment['status']}")
        if "amount" in body and _amount(body["amount"], "amount") != payment["amount"]:
            raise ApiError(400, "invalid_request", "The double captures the whole amount")
        payment.update(status="succeeded", captured_at=_now(), refundable=True)
        return "payment", payment

    def cancel(self, payment_id: str) -> tuple[str, JsonObject]:
        payment = self.payment(payment_id)
        if payment["status"] != "waiting_for_capture":
            raise ApiError(400, "invalid_request", f"Payment is {payment['status']}")
        payment.update(
            status="canceled",
            paid=False,
            cancellation_details={"party": "merchant", "reason": "canceled_by_merchant"},
        )
        return "payment", payment

    def create_refund(self, body: JsonObject) -> tuple[str, JsonObject]:
        payment_id = body.get("payment_id")
        if not isinstance(payment_id, str) or payment_id not in self.payments:
            raise ApiError(400, "invalid_request", "Payment not found", "payment_id")
        payment = self.payments[payment_id]
        if payment["status"] != "succeeded":
            raise ApiError(400, "invalid_request", f"Payment is {payment['status']}")
        amount = _amount(body.get("amount"), "amount")
        refunded = Decimal(payment["refunded_amount"]["value"])
        left = Decimal(payment["amount"]["value"]) - refunded
        if amount["currency"] != payment["amount"]["currency"] or Decimal(amount["value"]) > left:
            raise ApiError(400, "invalid_request", "Refund amount is too large", "amount")
        refund: JsonObject = {
            "id": str(uuid.uuid4()),
            "payment_id": payment_id,
            "status": "succeeded",
            "created_at": _now(),
            "amount": amount,
            "description": str(body.get("description", "")),
        }
        self.refunds[refund["id"]] = refund
        refunded += Decimal(amount["value"])
        payment["refunded_amount"] = {"value": f"{refunded:.2f}", "currency": amount["currency"]}
        payment["refundable"] = refunded < Decimal(payment["amount"]["value"])
        return "refund", refund

    def buyer_pays(self, payment_id: str) -> JsonObject:
        payment = self.payment(payment_id)
        if payment["status"] != "pending":
            raise ApiError(400, "invalid_request", f"Payment is {payment['status']}")
        if payment_id in self.auto_capture:
            payment.update(status="succeeded", paid=True, captured_at=_now(), refundable=True)
        else:
            payment.update(status="waiting_for_capture", paid=True)
        return payment

    def card_declined(self, payment_id: str) -> JsonObject:
        payment = self.payment(payment_id)
        if payment["status"] != "pending":
            raise ApiError(400, "invalid_request", f"Payment is {payment['status']}")
        payment.update(
            status="canceled",
            cancellation_details={"party": "payment_network", "reason": "general_decline"},
        )
        return payment

    def notify(self, event: str, subject: JsonObject) -> JsonObject:
        """Record the notification of `event` about `subject` as it is now; the handler sends it
        once it has let go of the lock (the app's webhook reads the object back from here)."""
        entry: JsonObject = {
            "event": event,
            "object_id": subject["id"],
            "body": json.dumps({"type": "notification", "event": event, "object": subject}),
            "delivery": None,
        }
        self.notifications.append(entry)
        return entry

    def deliver(self, entry: JsonObject) -> None:
        """POST the entry's body to the webhook URL; its delivery is the answer's status."""
        url = self.webhook_url
        if url is None:
            entry["delivery"] = "no webhook url"
            return
        request = urllib.request.Request(  # noqa: S310 (the test's own http URL)
            url,
            data=entry["body"].encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
                entry["delivery"] = answer.status
        except urllib.error.HTTPError as refused:
            entry["delivery"] = refused.code
        except OSError as error:
            entry["delivery"] = f"error: {type(error).__name__}"


class Handler(BaseHTTPRequestHandler):
    server: "DoubleServer"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read what they need from the control plane."""

    def do_GET(self) -> None:
        self.route("GET")

    def do_POST(self) -> None:
        self.route("POST")

    def route(self, method: str) -> None:
        double = self.server.double
        path = urllib.parse.urlsplit(self.path).path
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        # Notifications the request made, sent after the lock is let go.
        self.made: list[JsonObject] = []
        if path.startswith("/_double/confirm/"):
            self.buyer_page(method, path.removeprefix("/_double/confirm/"), raw)
        elif path.startswith("/_double/"):
            control = path.removeprefix("/_double/")
            status, content = self.answer(lambda: self.control(method, control, raw))
            for entry in self.made:
                double.deliver(entry)
            if self.made:
                delivery = self.made[-1]["delivery"]
                content = json.dumps({**json.loads(content), "delivery": delivery})
            self.send(status, content)
        elif double.mode == "fail":
            error = ApiError(500, "internal_server_error", "The double is told to fail")
            self.send(error.status, json.dumps(error.body))
        else:
            status, content = self.answer(lambda: self.api(method, path, raw))
            for entry in self.made:
                threading.Thread(target=double.deliver, args=(entry,), daemon=True).start()
            if double.mode == "hang":
                double.released.wait(HANG_SECONDS)
                self.close_connection = True
                return
            self.send(status, content)

    def answer(self, act: Callable[[], JsonObject]) -> tuple[int, str]:
        """The status and JSON of act(), run under the lock, or of the ApiError it raised."""
        with self.server.double.lock:
            try:
                return 200, json.dumps(act())
            except ApiError as error:
                return error.status, json.dumps(error.body)

    def json_body(self, raw: bytes) -> JsonObject:
        if not raw:
            return {}
        try:
            body = json.loads(raw)
        except ValueError:
            raise ApiError(400, "invalid_request", "The body is not JSON") from None
        if not isinstance(body, dict):
            raise ApiError(400, "invalid_request", "The body is not a JSON object")
        return body

    def api(self, method: str, path: str, raw: bytes) -> JsonObject:
        double = self.server.double
        expected = base64.b64encode(f"{double.shop_id}:{double.secret_key}".encode()).decode()
        if self.headers.get("Authorization") != f"Basic {expected}":
            raise ApiError(401, "invalid_credentials", "Login or password is incorrect")
        body = self.json_body(raw)
        key = self.headers.get("Idempotence-Key")
        request = f"{method} {path} {json.dumps(body, sort_keys=True)}"
        match method, path.strip("/").split("/"):
            case "POST", ["v3", "payments"]:
                return double.idempotent(key, request, lambda: double.create_payment(body))[0]
            case "GET", ["v3", "payments", payment_id]:
                return double.payment(payment_id)
            case "POST", ["v3", "payments", payment_id, "capture"]:
                payment, new = double.idempotent(
                    key, request, lambda: double.capture(payment_id, body)
                )
                if new:
                    self.made.append(double.notify("payment.succeeded", payment))
                return payment
            case "POST", ["v3", "payments", payment_id, "cancel"]:
                payment, new = double.idempotent(key, request, lambda: double.cancel(payment_id))
                if new:
                    self.made.append(double.notify("payment.canceled", payment))
                return payment
            case "POST", ["v3", "refunds"]:
                refund, new = double.idempotent(key, request, lambda: double.create_refund(body))
                if new:
                    self.made.append(double.notify("refund.succeeded", refund))
                return refund
            case "GET", ["v3", "refunds", refund_id]:
                return double.refund(refund_id)
        raise ApiError(404, "not_found", f"No {method} {path}")

    def control(self, method: str, path: str, raw: bytes) -> JsonObject:
        double = self.server.double
        body = self.json_body(raw)
        match method, path.strip("/").split("/"):
            case "POST", ["reset"]:
                double.reset()
                return {}
            case "POST", ["mode"]:
                double.set_mode(str(body.get("mode")))
                return {"mode": double.mode}
            case "POST", ["webhook"]:
                double.webhook_url = body.get("url")
                return {"url": double.webhook_url}
            case "GET", ["payments"]:
                return {"items": list(double.payments.values())}
            case "GET", ["refunds"]:
                return {"items": list(double.refunds.values())}
            case "POST", ["payments", payment_id, "pay"]:
                payment = double.buyer_pays(payment_id)
                self.made.append(double.notify(f"payment.{payment['status']}", payment))
                return {"payment": payment}
            case "POST", ["payments", payment_id, "decline"]:
                payment = double.card_declined(payment_id)
                self.made.append(double.notify("payment.canceled", payment))
                return {"payment": payment}
            case "GET", ["notifications"]:
                return {"items": double.notifications}
            case "POST", ["notifications", number, "resend"]:
                if not number.isdigit() or int(number) >= len(double.notifications):
                    raise ApiError(404, "not_found", f"No notification {number}")
                self.made.append({**double.notifications[int(number)], "delivery": None})
                return {}
        raise ApiError(404, "not_found", f"No control {method} {path}")

    def buyer_page(self, method: str, payment_id: str, raw: bytes) -> None:
        """The page a buyer is sent to: Pay or Decline, then back to the shop's return_url."""
        double = self.server.double
        action = urllib.parse.parse_qs(raw.decode()).get("action", [""])[0]
        change = {"pay": double.buyer_pays, "decline": double.card_declined}.get(action)
        with double.lock:
            if payment_id not in double.payments or (method == "POST" and change is None):
                self.send(404, json.dumps({"type": "error", "code": "not_found"}))
                return
            if change is not None and double.payments[payment_id]["status"] == "pending":
                payment = change(payment_id)
                event = "canceled" if action == "decline" else payment["status"]
                self.made.append(double.notify(f"payment.{event}", payment))
            payment = double.payments[payment_id]
            page = _buyer_page(payment)
            return_url = double.return_urls[payment_id]
        if method == "POST":
            for entry in self.made:
                double.deliver(entry)
            self.send_response(303)
            self.send_header("Location", return_url)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def send(self, status: int, content: str) -> None:
        encoded = content.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(encoded)))
        self.end_headers()
        self.wfile.write(encoded)


def _buyer_page(payment: JsonObject) -> bytes:
    amount = payment["amount"]
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<title>YooKassa test double</title></head><body>"
        "<h1>YooKassa TEST DOUBLE: no real payment</h1>"
        f"<p id='amount'>{html.escape(amount['value'])} {html.escape(amount['currency'])}</p>"
        f"<p id='description'>{html.escape(payment['description'])}</p>"
        f"<p id='status'>{html.escape(payment['status'])}</p>"
        "<form method='post'><button name='action' value='pay'>Pay</button>"
        " <button name='action' value='decline'>Decline</button></form>"
        "</body></html>"
    ).encode()


class DoubleServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], double: Double) -> None:
        super().__init__(address, Handler)
        self.double = double
        double.base_url = f"http://{address[0]}:{self.server_address[1]}"


def main() -> None:
    parser = argparse.ArgumentParser(description="A test double of YooKassa's API v3")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--shop-id", required=True)
    parser.add_argument("--secret-key", required=True)
    arguments = parser.parse_args()
    server = DoubleServer(
        (arguments.host, arguments.port),
        Double(shop_id=arguments.shop_id, secret_key=arguments.secret_key),
    )
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_forever()


@dataclass(frozen=True)
class YooKassaDouble:
    """The tests' handle on a running double: its API URL, the shop, and its control plane."""

    base_url: str
    shop_id: str
    secret_key: str

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/v3"

    def control(self, method: str, path: str, payload: JsonObject | None = None) -> JsonObject:
        request = urllib.request.Request(  # noqa: S310 (the double's own http URL)
            f"{self.base_url}/_double/{path}",
            data=json.dumps(payload).encode() if payload is not None else None,
            headers={"Content-Type": "application/json"},
            method=method,
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            result: JsonObject = json.loads(answer.read())
            return result

    def reset(self) -> None:
        self.control("POST", "reset", {})

    def set_mode(self, mode: str) -> None:
        self.control("POST", "mode", {"mode": mode})

    def set_webhook(self, url: str | None) -> None:
        self.control("POST", "webhook", {"url": url})

    def payments(self) -> list[JsonObject]:
        return list(self.control("GET", "payments")["items"])

    def refunds(self) -> list[JsonObject]:
        return list(self.control("GET", "refunds")["items"])

    def pay(self, payment_id: str) -> JsonObject:
        return self.control("POST", f"payments/{payment_id}/pay", {})

    def decline(self, payment_id: str) -> JsonObject:
        return self.control("POST", f"payments/{payment_id}/decline", {})

    def notifications(self) -> list[JsonObject]:
        return list(self.control("GET", "notifications")["items"])

    def resend(self, number: int) -> JsonObject:
        return self.control("POST", f"notifications/{number}/resend", {})


TEST_DOUBLE_SHOP = {"shop_id": "test-double-shop", "secret_key": "test-double-secret"}


@pytest.fixture(scope="session")
def yookassa_double_server() -> Iterator[YooKassaDouble]:
    """The double in a process of its own, on a port it chose, for the whole session."""
    server = subprocess.Popen(  # noqa: S603 (our own interpreter and fixed arguments)
        [
            sys.executable,
            __file__,
            "--port",
            "0",
            "--shop-id",
            TEST_DOUBLE_SHOP["shop_id"],
            "--secret-key",
            TEST_DOUBLE_SHOP["secret_key"],
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert server.stdout is not None
    ready, _, _ = select.select([server.stdout], [], [], 30)
    line = server.stdout.readline() if ready else ""
    if not line.startswith("listening on "):
        server.kill()
        raise RuntimeError("the YooKassa test double did not start")
    yield YooKassaDouble(base_url=f"http://127.0.0.1:{int(line.split()[-1])}", **TEST_DOUBLE_SHOP)
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def yookassa_double(
    settings: Any, yookassa_double_server: YooKassaDouble
) -> Iterator[YooKassaDouble]:
    """A fresh double with YooKassa enabled and pointed at it, for one test."""
    yookassa_double_server.reset()
    settings.YOOKASSA_SHOP_ID = yookassa_double_server.shop_id
    settings.YOOKASSA_SECRET_KEY = yookassa_double_server.secret_key
    settings.YOOKASSA_API_URL = yookassa_double_server.api_url
    from tests.destinations import declare_destination  # here: this file also runs as a script

    api = urllib.parse.urlsplit(yookassa_double_server.api_url)
    declare_destination(settings, host=api.hostname, port=api.port, purpose="payments")
    settings.YOOKASSA_TIMEOUT_SECONDS = 5.0
    settings.PAYMENT_PROVIDERS = ["bank_transfer", "yookassa"]
    # As config/settings.py lets checkout's form lead to YooKassa's payment page: to the double's.
    settings.YOOKASSA_PAYMENT_PAGE_ORIGIN = yookassa_double_server.base_url
    settings.PAYMENT_PAGE_ORIGINS = [yookassa_double_server.base_url]
    policy = settings.CONTENT_SECURITY_POLICY
    settings.CONTENT_SECURITY_POLICY = {
        **policy,
        "DIRECTIVES": {
            **policy["DIRECTIVES"],
            "form-action": ["'self'", *settings.PAYMENT_PAGE_ORIGINS],
        },
    }
    yield yookassa_double_server
    # Releases any call still hanging, so the next test starts on a double that answers.
    yookassa_double_server.reset()


if __name__ == "__main__":
    main()
