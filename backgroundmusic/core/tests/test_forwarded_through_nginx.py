"""Through Debian's nginx with the deploy site's `location /` (deploy/nginx/backgroundmusic.conf)
in front of the live server: clients connecting from two loopback addresses, each sending a made-up
X-Forwarded-For, are told apart by the app with PROXY_COUNT=1 (core/middleware.py)."""

import http.client
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from axes.models import AccessAttempt
from django.conf import settings

from backgroundmusic.media.tests.nginx_server import nginx_binary

SITE = Path(settings.BASE_DIR) / "deploy" / "nginx" / "backgroundmusic.conf"
SPOOFED = "198.51.100.99"

pytestmark = pytest.mark.django_db(transaction=True)


def app_location() -> str:
    """The deploy site's `location / { ... }` block, as written there."""
    site = SITE.read_text()
    start = site.index("    location / {\n")
    end = site.index("\n    }\n", start) + len("\n    }\n")
    return site[start:end]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def nginx_in_front(live_server, tmp_path) -> Iterator[int]:
    """nginx on a free loopback port, passing every request to the live server as deployed."""
    port = free_port()
    app = urlsplit(live_server.url).netloc
    user = "user root root;" if os.geteuid() == 0 else ""
    config = tmp_path / "nginx.conf"
    config.write_text(
        f"daemon off;\nworker_processes 1;\npid {tmp_path}/nginx.pid;\n{user}\n"
        f"error_log {tmp_path}/error.log warn;\nevents {{ worker_connections 64; }}\n"
        f"http {{\n    access_log off;\n    client_body_temp_path {tmp_path}/body;\n"
        f"    proxy_temp_path {tmp_path}/proxy;\n    fastcgi_temp_path {tmp_path}/fastcgi;\n"
        f"    uwsgi_temp_path {tmp_path}/uwsgi;\n    scgi_temp_path {tmp_path}/scgi;\n"
        f"    upstream backgroundmusic_app {{ server {app}; }}\n"
        f"    server {{\n    listen 127.0.0.1:{port};\n{app_location()}    }}\n}}\n"
    )
    arguments = ["-c", str(config), "-p", str(tmp_path), "-e", str(tmp_path / "error.log")]
    binary = nginx_binary()
    subprocess.run([binary, "-t", "-q", *arguments], check=True)  # noqa: S603 (our config)
    process = subprocess.Popen([binary, *arguments])  # noqa: S603 (our config)
    try:
        deadline = time.monotonic() + 20
        while not listening(port):
            assert process.poll() is None, (tmp_path / "error.log").read_text()
            assert time.monotonic() < deadline, "nginx does not listen after 20 s"
            time.sleep(0.05)
        yield port
    finally:
        process.send_signal(signal.SIGQUIT)
        process.wait(timeout=15)


def failed_login(port: int, *, source: str) -> int:
    """Signs in with a wrong password from the source address, through nginx: the status."""

    def request(method: str, body: str = "", headers: dict[str, str] | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", port, source_address=(source, 0))
        connection.request(
            method,
            "/accounts/login/",
            body=body,
            headers={"Host": "127.0.0.1", "X-Forwarded-For": SPOOFED, **(headers or {})},
        )
        response = connection.getresponse()
        return response, response.read().decode()

    form, page = request("GET")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    cookie = SimpleCookie(form.getheader("Set-Cookie"))["csrftoken"].value
    posted, _page = request(
        "POST",
        urlencode({"csrfmiddlewaretoken": token.group(1), "login": "member", "password": "x"}),
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={cookie}"},
    )
    return posted.status


def test_each_client_behind_nginx_is_recorded_with_its_own_address(nginx_in_front, settings):
    settings.PROXY_COUNT = 1
    assert failed_login(nginx_in_front, source="127.0.0.2") == 200
    assert failed_login(nginx_in_front, source="127.0.0.3") == 200
    assert failed_login(nginx_in_front, source="127.0.0.3") == 200

    attempts = AccessAttempt.objects.order_by("ip_address")
    assert list(attempts.values_list("ip_address", "failures_since_start")) == [
        ("127.0.0.2", 1),
        ("127.0.0.3", 2),
    ]


def test_without_proxy_count_every_client_is_nginxs_address(nginx_in_front, settings):
    settings.PROXY_COUNT = 0
    assert failed_login(nginx_in_front, source="127.0.0.2") == 200
    assert failed_login(nginx_in_front, source="127.0.0.3") == 200

    attempts = AccessAttempt.objects.values_list("ip_address", "failures_since_start")
    assert list(attempts) == [("127.0.0.1", 2)]
