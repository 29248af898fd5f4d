"""An app server killed (SIGKILL, the whole gunicorn) while requests flow through nginx: the
pages asked for after it are answered by the other one, no request is lost beyond the ones that
were in flight on it, and once the stack has started it again it takes requests again."""

import json
import os
import signal
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass

from tests.scale.conftest import stack_state
from tests.scale.test_journeys import nginx_lines_since, nginx_log_size

CLIENTS = 6
BEFORE_SECONDS = 3.0
AFTER_SECONDS = 8.0


@dataclass(frozen=True)
class Outcome:
    method: str
    started: float
    ended: float
    status: int  # 0: no answer at all


def _ask(base_url: str, method: str) -> int:
    if method == "GET":
        request = urllib.request.Request(f"{base_url}/catalog/")  # noqa: S310 (loopback)
    else:
        # The analytics beacon, cookieless, as a page of the site sends it.
        request = urllib.request.Request(  # noqa: S310 (loopback)
            f"{base_url}/a/e",
            data=json.dumps(
                {"events": [{"kind": "view", "view": str(uuid.uuid4()), "path": "/catalog/"}]}
            ).encode(),
            method="POST",
            headers={"Content-Type": "text/plain", "Sec-Fetch-Site": "same-origin"},
        )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (loopback)
            answer.read()
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0


def _client(base_url: str, method: str, until: float, outcomes: list[Outcome]) -> None:
    while time.monotonic() < until:
        started = time.monotonic()
        status = _ask(base_url, method)
        outcomes.append(Outcome(method, started, time.monotonic(), status))


def _refused_from(port: int) -> float:
    """When connections to `port` are refused, polling from now on."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except ConnectionRefusedError:
            return time.monotonic()
        except OSError:
            pass
        time.sleep(0.002)
    raise AssertionError(f"port {port} still took connections 10 s after the kill")


def test_killing_an_app_server_loses_only_the_requests_in_flight_on_it(base_url: str) -> None:
    state = stack_state()
    victim = state["app_servers"][0]
    survivor = state["app_servers"][1]
    log_offset = nginx_log_size()
    outcomes: list[Outcome] = []
    until = time.monotonic() + BEFORE_SECONDS + AFTER_SECONDS
    clients = [
        threading.Thread(
            target=_client, args=(base_url, "GET" if n % 3 else "POST", until, outcomes)
        )
        for n in range(CLIENTS)
    ]
    for client in clients:
        client.start()
    time.sleep(BEFORE_SECONDS)
    killed_at = time.monotonic()
    killed_wall = time.time()
    os.killpg(victim["pid"], signal.SIGKILL)
    dead_at = _refused_from(victim["port"])
    for client in clients:
        client.join()

    failed = [outcome for outcome in outcomes if outcome.status not in (200, 204)]
    # In flight: sent before its port refused connections (the kernel closes a killed process's
    # sockets as it tears it down; what reached them until then dies with it), not ended before
    # the kill.
    in_flight = [o for o in outcomes if o.started <= dead_at and o.ended >= killed_at]
    after = [o for o in outcomes if o.started > dead_at]
    # Every failure was a request on its way when the server died, and only a POST (nginx sends
    # a GET that met the dead server to the other one; a POST already sent is never sent twice).
    assert set(failed) <= set(in_flight)
    assert all(outcome.method == "POST" for outcome in failed)
    assert len(after) > CLIENTS, "too few requests after the kill to tell"
    assert all(outcome.status in (200, 204) for outcome in after)

    # nginx answered the requests after the kill from the other server.
    lines = [line for line in nginx_lines_since(log_offset) if float(line[0]) > killed_wall + 1]
    answered_by = {line[4].rstrip(",") for line in lines if line[3] in ("/catalog/", "/a/e")}
    survivor_address = f"127.0.0.1:{survivor['port']}"
    assert survivor_address in answered_by

    # The stack starts the killed server again, and nginx sends it requests again.
    deadline = time.monotonic() + 120
    victim_address = f"127.0.0.1:{victim['port']}"
    while True:
        restarted = next(s for s in stack_state()["app_servers"] if s["name"] == victim["name"])
        offset = nginx_log_size()
        statuses = [_ask(base_url, "GET") for _ in range(6)]
        served = [
            line
            for line in nginx_lines_since(offset)
            if line[4] == victim_address and line[1] == "200"
        ]
        if restarted["restarts"] > victim["restarts"] and served:
            break
        assert time.monotonic() < deadline, "the killed server was not serving again in 120 s"
        time.sleep(1)
    assert statuses == [200] * 6
