"""Checkout benchmark: orders/s through the service's own checkout path, next to /healthz in the
same run.

Run by `make bench` (or `.venv/bin/python bench/checkout.py`). On loopback, in a scratch VAR_DIR:

- data:     a migrated SQLite database (embedded mode) with licence terms, one creator plan and
            CLIENTS buyers with complete profiles, each signed in (a session made directly);
- provider: tests/yookassa_double.py, the TEST DOUBLE of YooKassa's API, in its own process,
            sending its notifications to the server's /payments/yookassa/notifications;
- server:   gunicorn as `make run` starts it (config/gunicorn.py, 2 workers × 4 threads),
            with YooKassa enabled and pointed at the double.

Each client is one buyer on one keep-alive connection, ordering again and again for SECONDS:
  1. POST /cart/add/      the plan into the cart;
  2. POST /checkout/      the order (private person, roubles, card), whose answer redirects to
                          the provider's page: the service has created the payment there;
  3. POST the provider's page "Pay": the double notifies the service, which re-reads the payment,
                          captures it, marks the order paid and concludes the agreement;
  4. GET  the return page the provider redirects to (the payment read once more).
An order counts when all four answered as expected; at the end every counted order must be paid
in the database, with its agreement.

/healthz is the anchor: the same server and middleware, a page that does almost nothing,
measured with the same number of clients first and last. Prints orders/s, the requests/s to our
server on the checkout path (four per order), p50/p99 of a whole order, and the ratio of
checkout requests/s to /healthz requests/s.

Environment: BENCH_CLIENTS (8), BENCH_SECONDS (10).
"""

import http.client
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from streaming import HOST, ROOT, free_port, gunicorn, wait_for_port

CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
SHOP = {"shop_id": "bench-shop", "secret_key": "bench-secret"}
PASSWORD = "bench-password-1"  # noqa: S105 - scratch accounts of the bench


def start_double(log: Path) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 (our interpreter, fixed arguments)
        [
            sys.executable,
            str(ROOT / "tests/yookassa_double.py"),
            "--port",
            str(port),
            "--shop-id",
            SHOP["shop_id"],
            "--secret-key",
            SHOP["secret_key"],
        ],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
    )
    wait_for_port(port, process)  # type: ignore[arg-type]
    return process, port


def prepare() -> dict[str, object]:
    """Migrates the scratch database and fills it; the plan, the terms and a session per buyer."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.core.management import call_command
    from django.utils.module_loading import import_string

    from backgroundmusic.accounts.services import ProfileData, profile_update, user_create
    from backgroundmusic.licensing.tests.factories import plan_edition, terms_edition

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    terms = terms_edition()
    edition = plan_edition()
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    sessions = []
    for number in range(CLIENTS):
        user = user_create(
            username=f"bench{number}",
            email=f"bench{number}@example.com",
            password=PASSWORD,
            email_verified=True,
        )
        profile_update(
            user=user,
            data=ProfileData(
                username=user.username,
                full_name=f"Bench Buyer {number}",
                account_type="natural",
                company_name="",
                tax_id="",
                address_country="Russia",
                address_region="",
                address_city="Moscow",
                address_street="1 Tverskaya St",
                address_postcode="125009",
                social_links=[],
            ),
        )
        session = store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        sessions.append(session.session_key)
    return {"terms": terms.pk, "edition": edition.pk, "sessions": sessions}


class Buyer:
    """One signed-in buyer on one keep-alive connection to our server."""

    def __init__(self, port: int, session_key: str, scene: dict[str, object]) -> None:
        self.server = http.client.HTTPConnection(HOST, port, timeout=60)
        self.csrf = secrets.token_hex(16)
        self.cookie = f"sessionid={session_key}; csrftoken={self.csrf}"
        self.scene = scene
        self.port = port

    def request(self, method: str, path: str, form: dict[str, object] | None = None) -> tuple:
        headers = {"Cookie": self.cookie, "Accept-Language": "en", "Referer": ""}
        body = None
        if form is not None:
            body = urllib.parse.urlencode({**form, "csrfmiddlewaretoken": self.csrf})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://{HOST}:{self.port}{path}"
        try:
            self.server.request(method, path, body=body, headers=headers)
            response = self.server.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # gunicorn closes a keep-alive connection idle for 2 s (while the buyer was on the
            # provider's page): the request never reached it, so it is sent again.
            self.server.close()
            self.server.request(method, path, body=body, headers=headers)
            response = self.server.getresponse()
        response.read()
        return response.status, response.getheader("Location") or ""

    def order(self) -> str:
        """One whole order; "" when it went as it must, else what went wrong."""
        status, _ = self.request(
            "POST", "/cart/add/", {"edition": self.scene["edition"], "quantity": 1}
        )
        if status != 302:
            return f"cart add answered {status}"
        status, confirmation = self.request(
            "POST",
            "/checkout/",
            {
                "buyer_kind": "natural",
                "currency": "RUB",
                "payment_method": "card",
                "terms_edition": self.scene["terms"],
                "accept_terms": "on",
            },
        )
        if status != 302 or "/_double/confirm/" not in confirmation:
            return f"checkout answered {status} to {confirmation}"
        page = urllib.parse.urlsplit(confirmation)
        double = http.client.HTTPConnection(page.hostname, page.port, timeout=60)
        double.request(
            "POST",
            page.path,
            body="action=pay",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        paid = double.getresponse()
        paid.read()
        back = paid.getheader("Location") or ""
        double.close()
        if paid.status != 303 or not back:
            return f"the provider's page answered {paid.status}"
        status, detail = self.request("GET", urllib.parse.urlsplit(back).path)
        if status != 302 or not re.fullmatch(r"/orders/[\w-]+/", detail):
            return f"the return page answered {status}"
        return ""


def run_buyer(buyer: Buyer, deadline: float, results: list[tuple[list[float], str]]) -> None:
    times: list[float] = []
    error = ""
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            error = buyer.order()
        except (OSError, http.client.HTTPException) as problem:
            error = f"{type(problem).__name__}: {problem}"
        if error:
            break
        times.append(time.perf_counter() - started)
    results.append((times, error))


def healthz(port: int) -> float:
    """/healthz requests/s with CLIENTS keep-alive connections for SECONDS / 2."""
    counts: list[int] = []

    def loop(deadline: float) -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        done = 0
        while time.monotonic() < deadline:
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit(f"/healthz answered {response.status}")
            done += 1
        counts.append(done)

    seconds = SECONDS / 2
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=loop, args=(deadline,)) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / seconds


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-checkout-") as scratch:
        double, double_port = start_double(Path(scratch) / "double.log")
        port = free_port()
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DATABASE_URL", "ANALYTICS_DATABASE_URL", "REDIS_URL"}
        }
        env.update(
            VAR_DIR=str(Path(scratch) / "var"),
            DJANGO_SETTINGS_MODULE="config.settings",
            LOG_LEVEL="WARNING",
            PYTHONPATH=str(ROOT),
            YOOKASSA_SHOP_ID=SHOP["shop_id"],
            YOOKASSA_SECRET_KEY=SHOP["secret_key"],
            YOOKASSA_API_URL=f"http://{HOST}:{double_port}/v3",
        )
        os.environ.clear()
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        try:
            scene = prepare()
            from tests.yookassa_double import YooKassaDouble

            control = YooKassaDouble(base_url=f"http://{HOST}:{double_port}", **SHOP)
            control.set_webhook(f"http://{HOST}:{port}/payments/yookassa/notifications")
            print(
                f"checkout bench: {CLIENTS} buyers at once, {SECONDS:g} s, gunicorn 2 workers × "
                "4 threads, SQLite, card payments through the YooKassa test double",
                flush=True,
            )
            with gunicorn(env, port, Path(scratch) / "gunicorn.log"):
                buyers = [Buyer(port, key, scene) for key in scene["sessions"]]  # type: ignore[attr-defined]
                buyers[0].order()  # warm-up: both workers import and compile on first use
                anchor_first = healthz(port)
                results: list[tuple[list[float], str]] = []
                began = time.monotonic()
                threads = [
                    threading.Thread(target=run_buyer, args=(buyer, began + SECONDS, results))
                    for buyer in buyers
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                ran = time.monotonic() - began
                anchor_last = healthz(port)
            errors = sorted({error for _, error in results if error})
            if errors:
                raise SystemExit(f"an order failed: {errors[0]}")
            from backgroundmusic.licensing.models import Agreement, Order

            counted = sum(len(times) for times, _ in results) + 1
            paid = Order.objects.filter(status=Order.Status.PAID).count()
            concluded = Agreement.objects.count()
            if (paid, concluded) != (counted, counted):
                raise SystemExit(f"{counted} orders, {paid} paid, {concluded} agreements")
        finally:
            double.terminate()
            double.wait(timeout=10)
    orders = counted - 1
    durations = sorted(duration for times, _ in results for duration in times)
    anchor = (anchor_first + anchor_last) / 2
    rate = orders / ran
    print(f"/healthz (anchor)           {anchor_first:9.0f} requests/s")
    print(
        f"checkout, whole orders      {rate:9.1f} orders/s  ({orders} orders, p50 "
        f"{statistics.median(durations) * 1000:.0f} ms, p99 "
        f"{durations[min(len(durations) - 1, int(len(durations) * 0.99))] * 1000:.0f} ms)"
    )
    print(f"checkout, our requests      {rate * 4:9.1f} requests/s (four per order)")
    print(f"/healthz (anchor, again)    {anchor_last:9.0f} requests/s")
    print(f"ratio checkout requests / healthz: {rate * 4 / anchor:.3f}")
    print(f"every order paid with its agreement: {paid} of {counted}")


if __name__ == "__main__":
    main()
