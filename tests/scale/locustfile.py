"""The visitors of `make load` (tests/scale/load.py runs locust with this file against the
scale stack's nginx): they browse and search the catalogue, open tracks and play their previews
(the stream URL the page issued, fetched range by range from nginx), send the analytics beacons
a page sends (cookieless: they gave no consent, so no bm_aid cookie is set or sent), and one in
ten signs in first and also opens the privacy center and the licences page.

Each request is named by its kind ("page: ...", "beacon", "stream: ...", "sign-in"); the kinds'
response times, when each failed request ended, and when each page or beacon slower than its goal
ended, are written to LOAD_RESULT as JSON when locust stops."""

import html
import itertools
import json
import os
import random
import re
import time
import uuid
from collections import defaultdict
from typing import Any

from locust import FastHttpUser, between, events, task

from tests.scale.load import GOAL_MS
from tests.scale.names import MEMBER_PASSWORD, TRACKS, member_username

TRACK_LINK = re.compile(r'href="/catalog/([a-z0-9-]+)/"')
STREAM = re.compile(r'data-src="(/(?:audio|stream)/[^"]+)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SEARCH_WORDS = [title.split()[0] for title, *_rest in TRACKS] + ["calm", "piano", "nothing-here"]
RANGE_BYTES = 64 * 1024
_members = itertools.count(1)
_times: dict[str, list[float]] = defaultdict(list)
_errors: dict[str, int] = defaultdict(int)
# (wall-clock time it ended, request name, what failed): the load test compares them with its
# kills.
_failures: list[tuple[float, str, str]] = []
# (wall-clock time it ended, kind, request name) of each request slower than its kind's goal.
_slow: list[tuple[float, str, str]] = []


def _kind(name: str) -> str:
    return name.split(":")[0]


@events.request.add_listener
def _recorded(name: str, response_time: float, exception: Any, **_kwargs: Any) -> None:
    kind = _kind(name)
    _times[kind].append(response_time)
    if kind in GOAL_MS and response_time > GOAL_MS[kind]:
        _slow.append((time.time(), kind, name))
    if exception is not None:
        _errors[name] += 1
        _failures.append((time.time(), name, str(exception)[:120]))


@events.quitting.add_listener
def _written(**_kwargs: Any) -> None:
    target = os.environ.get("LOAD_RESULT")
    if target:
        with open(target, "w") as out:
            json.dump(
                {"times_ms": _times, "errors": _errors, "failures": _failures, "slow": _slow}, out
            )


class Visitor(FastHttpUser):
    weight = 9
    # Think time: a person reads a page before the next.
    wait_time = between(3, 10)

    def on_start(self) -> None:
        self.slugs: list[str] = []

    def page(self, path: str, name: str) -> str:
        with self.client.get(path, name=f"page: {name}", catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code}")
                return ""
            text = answer.text or ""
        self.beacon(path.partition("?")[0])
        return text

    def beacon(self, path: str) -> None:
        view = str(uuid.uuid4())
        body = {
            "events": [
                {"kind": "view", "view": view, "path": path},
                {"kind": "engage", "view": view, "path": path, "engaged_ms": 4000},
            ]
        }
        with self.client.post(
            "/a/e",
            data=json.dumps(body),
            headers={"Content-Type": "text/plain", "Sec-Fetch-Site": "same-origin"},
            name="beacon",
            catch_response=True,
        ) as answer:
            if answer.status_code != 204:
                answer.failure(f"{answer.status_code}")

    @task(4)
    def browse(self) -> None:
        text = self.page("/catalog/", "catalogue")
        self.slugs = TRACK_LINK.findall(text) or self.slugs

    @task(3)
    def search(self) -> None:
        self.page(f"/catalog/?q={random.choice(SEARCH_WORDS)}", "search")

    @task(3)
    def listen(self) -> None:
        if not self.slugs:
            return self.browse()
        text = self.page(f"/catalog/{random.choice(self.slugs)}/", "track")
        found = STREAM.search(text)
        if found is None:
            return None
        # A player's first ranges of the preview the page issued (nginx answers them).
        for number, first in enumerate((0, RANGE_BYTES)):
            with self.client.get(
                html.unescape(found.group(1)),
                headers={"Range": f"bytes={first}-{first + RANGE_BYTES - 1}"},
                name=f"stream: range {number + 1}",
                catch_response=True,
            ) as answer:
                if answer.status_code != 206 or len(answer.content or b"") != RANGE_BYTES:
                    answer.failure(f"{answer.status_code}, {len(answer.content or b'')} bytes")
        return None

    @task(1)
    def home(self) -> None:
        self.page("/", "home")


class Member(Visitor):
    """A signed-in visitor (a member account the stack seeded)."""

    weight = 1

    def on_start(self) -> None:
        super().on_start()
        login = self.client.get("/accounts/login/", name="page: sign-in form")
        token = CSRF.search(login.text or "")
        with self.client.post(
            "/accounts/login/",
            data={
                "csrfmiddlewaretoken": token.group(1) if token else "",
                "login": member_username(next(_members)),
                "password": MEMBER_PASSWORD,
            },
            name="sign-in",
            allow_redirects=False,
            catch_response=True,
        ) as answer:
            if answer.status_code != 302 or answer.headers.get("Location") != "/account/profile/":
                answer.failure(f"{answer.status_code} to {answer.headers.get('Location')}")

    @task(1)
    def privacy_center(self) -> None:
        self.page("/privacy/", "privacy center")

    @task(1)
    def licences(self) -> None:
        self.page("/licences/", "licences")
