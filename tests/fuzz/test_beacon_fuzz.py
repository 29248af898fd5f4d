"""Hypothesis fuzz of the analytics beacon POST /a/e through the Django test client.

The checks: never a 5xx; a refused beacon (4xx) stores nothing; an accepted one stores exactly
one row per event, each with a path free of e-mail addresses and free text, at most 512 long,
a referrer host that is "" or a host name in normal form, and no pseudonym from a bm_aid cookie
the server did not issue (the browser's consent cookie allows analytics).
"""

import json
import re

import pytest
from django.test import Client
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from backgroundmusic.analytics.buffer import event_buffer
from backgroundmusic.analytics.collection import EMAIL
from backgroundmusic.analytics.models import Event
from backgroundmusic.core.hostnames import normal_host
from backgroundmusic.privacy import cookies

pytestmark = pytest.mark.django_db(databases="__all__")

FUZZ = hypothesis_settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
uuids = st.uuids().map(str) | st.text(max_size=40)
paths = st.one_of(
    st.text(max_size=120),
    st.from_regex(r"/[a-z0-9/@%._:?=&-]{0,200}", fullmatch=True),
    st.builds(
        lambda a, b: f"/catalog/?q={a}@{b}.ru&mood=calm", st.text(max_size=10), st.text(max_size=6)
    ),
)
events = st.fixed_dictionaries(
    {"kind": st.sampled_from(["view", "engage", "click", ""]), "view": uuids, "path": paths},
    optional={
        "engaged_ms": st.integers(-10, 2_000_000) | json_values,
        "width": st.integers(-5, 10**7) | json_values,
        "language": st.text(max_size=20),
        "referrer": st.text(max_size=60)
        | st.builds(lambda host: f"https://{host}/", st.text(max_size=40)),
    },
)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.lists(events, max_size=8).map(lambda listed: json.dumps({"events": listed}).encode()),
)
headers = st.fixed_dictionaries(
    {},
    optional={
        "User-Agent": st.text(max_size=80),
        "Origin": st.sampled_from(["http://testserver", "https://evil.example", ""]),
        "Sec-Fetch-Site": st.sampled_from(["same-origin", "cross-site", "none", "x"]),
        "DNT": st.sampled_from(["1", "0", "yes"]),
    },
)
# bm_aid values the server never issued: unsigned, with a made-up signature, or any text.
forged_cookies = st.one_of(
    st.from_regex(r"[A-Za-z0-9_-]{22}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]{43}", fullmatch=True),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=80),
)


@FUZZ
@given(body=bodies, extra=headers, forged=st.none() | forged_cookies)
def test_the_beacon_never_fails_and_stores_only_what_it_accepts(body, extra, forged):
    before = Event.objects.count()
    client = Client()
    if forged is not None:
        client.cookies[cookies.CONSENT_COOKIE] = cookies.signed_choice_value(analytics=True)
        client.cookies[cookies.ANALYTICS_COOKIE] = forged
    response = client.post("/a/e", body, content_type="text/plain", headers=extra)
    event_buffer.flush()
    stored = list(Event.objects.order_by("pk")[before:])
    assert response.status_code in (204, 400, 403), response.content
    if response.status_code != 204:
        assert stored == []
        assert set(response.json()["error"]) == {"code", "message"}
        return
    assert len(stored) == len(json.loads(body)["events"])
    for event in stored:
        assert event.path.startswith("/") and len(event.path) <= 512
        assert not EMAIL.search(event.path)
        assert not re.search(r"[?&]q=", event.path)
        assert event.referrer_host == "" or normal_host(event.referrer_host) == event.referrer_host
        assert re.fullmatch(r"[a-z0-9.:-]*", event.referrer_host)
        assert not event.referrer_host.startswith("-")
        assert event.pseudonym == ""
