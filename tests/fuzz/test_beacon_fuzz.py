"""Hypothesis fuzz of the analytics beacon POST /a/e through the Django test client.

The checks: never a 5xx; a refused beacon (4xx) stores nothing; an accepted one stores exactly
one row per event, each with a path free of e-mail addresses and free text, at most 512 long.
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
        "referrer": st.text(max_size=60),
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


@FUZZ
@given(body=bodies, extra=headers)
def test_the_beacon_never_fails_and_stores_only_what_it_accepts(body, extra):
    before = Event.objects.count()
    response = Client().post("/a/e", body, content_type="text/plain", headers=extra)
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
