"""A beacon whose text could not be written is refused at the edge, so it cannot stop the batch
it would have joined (issue 9: one lone surrogate stopped a worker's analytics)."""

import json
import uuid

import pytest
from django.test import Client
from django.utils import translation

from backgroundmusic.analytics.buffer import event_buffer
from backgroundmusic.analytics.models import Event

pytestmark = pytest.mark.django_db(databases="__all__")

CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)


def beacon(path: str) -> tuple[bytes, str]:
    view = str(uuid.uuid4())
    return json.dumps({"events": [{"kind": "view", "view": view, "path": path}]}).encode(), view


def post(body: bytes):
    return Client().post(
        "/a/e",
        body,
        content_type="text/plain;charset=UTF-8",
        headers={"User-Agent": CHROME},
        REMOTE_ADDR="203.0.113.77",
    )


@pytest.mark.parametrize(
    ("poison", "code"),
    [
        ("/catalog/\ud800", "lone_surrogate"),  # sent as the JSON escape \ud800
        ("/catalog/\x00", "nul"),
        ("/catalog/\u202e", "bidi_control"),
    ],
)
def test_one_poisoned_beacon_among_good_ones_is_refused_and_exactly_the_good_are_stored(
    poison, code
):
    good_views = []
    for index in range(7):
        if index == 3:
            body, _view = beacon(poison)
            assert b"\\u" in body  # json.dumps escapes it, as a client would
            response = post(body)
            assert response.status_code == 400
            assert response.json()["error"]["code"] == code
            continue
        body, view = beacon(f"/catalog/page-{index}/")
        assert post(body).status_code == 204
        good_views.append(view)
    assert event_buffer.pending() == 6

    event_buffer.flush()

    stored = list(Event.objects.order_by("pk").values_list("view_id", "path"))
    assert [(str(view), path) for view, path in stored] == [
        (view, f"/catalog/page-{index}/")
        for view, index in zip(good_views, [0, 1, 2, 4, 5, 6], strict=True)
    ]
    assert event_buffer.pending() == 0


def test_a_beacon_nested_a_thousand_levels_is_a_400_not_a_500():
    with translation.override("en"):  # the beacon is answered before LocaleMiddleware
        response = post(b'{"events": ' + b"[" * 1000 + b"]" * 1000 + b"}")
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "too_deep",
            "message": "The JSON nests arrays and objects deeper than 32 levels.",
        }
    }
    assert event_buffer.pending() == 0
