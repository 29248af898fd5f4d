"""POST /a/e end to end: modes, refusals, batching, and identification stopping at write time."""

import json
import uuid
from datetime import UTC, datetime

import pytest
from django.db import OperationalError
from django.test import Client

from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.analytics import keys
from backgroundmusic.analytics.buffer import event_buffer
from backgroundmusic.analytics.models import AnalyticsIdentity, Event, VisitorSalt
from backgroundmusic.core import clock
from backgroundmusic.privacy import consents, cookies
from backgroundmusic.privacy.models import ConsentPurpose

pytestmark = pytest.mark.django_db(databases="__all__")

CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
PSEUDONYM = "AbCdEfGhIjKlMnOpQrStUv"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def views(count: int, path: str = "/catalog/") -> bytes:
    return json.dumps(
        {
            "events": [
                {"kind": "view", "view": str(uuid.uuid4()), "path": path} for _ in range(count)
            ]
        }
    ).encode()


def post(client: Client, body: bytes, **headers: str):
    return client.post(
        "/a/e",
        body,
        content_type="text/plain;charset=UTF-8",
        headers={"User-Agent": CHROME, **headers},
        REMOTE_ADDR="203.0.113.77",
    )


def consenting_client(pseudonym: str = PSEUDONYM) -> Client:
    client = Client()
    client.cookies[cookies.CONSENT_COOKIE] = cookies.signed_choice_value(analytics=True)
    client.cookies[cookies.ANALYTICS_COOKIE] = pseudonym
    return client


def stored() -> list[Event]:
    event_buffer.flush()
    return list(Event.objects.order_by("pk"))


def test_without_consent_events_carry_the_days_cookieless_key_and_no_cookie_is_set():
    with clock.frozen_at(NOW):
        response = post(Client(), views(2))
        assert (response.status_code, response.content, response.cookies) == (204, b"", {})
        [first, second] = stored()
    salt = bytes(VisitorSalt.objects.get(day=NOW.date()).secret)
    expected = keys.visitor_key(salt=salt, truncated_ip="203.0.113.0", browser="Chrome")
    assert (first.pseudonym, first.visitor_key, first.occurred_at) == ("", expected, NOW)
    assert second.visitor_key == expected


def test_with_consent_events_carry_the_cookies_pseudonym():
    assert post(consenting_client(), views(1)).status_code == 204
    [event] = stored()
    assert (event.pseudonym, event.visitor_key) == (PSEUDONYM, PSEUDONYM)


@pytest.mark.parametrize(
    "client_kind", ["do_not_track", "no_consent_cookie", "refused", "malformed_cookie"]
)
def test_no_pseudonym_without_a_valid_consent_and_cookie(client_kind):
    client = consenting_client()
    headers = {}
    if client_kind == "do_not_track":
        headers["DNT"] = "1"
    elif client_kind == "no_consent_cookie":
        del client.cookies[cookies.CONSENT_COOKIE]
    elif client_kind == "refused":
        client.cookies[cookies.CONSENT_COOKIE] = cookies.signed_choice_value(analytics=False)
    else:
        client.cookies[cookies.ANALYTICS_COOKIE] = "short"
    assert post(client, views(1), **headers).status_code == 204
    [event] = stored()
    assert event.pseudonym == ""
    assert len(event.visitor_key) == 64


@pytest.mark.parametrize("stop", ["withdrawn", "restricted"])
def test_a_stopped_account_is_not_identified_even_by_a_beacon_with_the_old_cookie(stop):
    person = UserFactory.create()
    consents.consent_give(subject=person, purpose=ConsentPurpose.ANALYTICS, method="banner")
    AnalyticsIdentity.objects.create(user=person, pseudonym=PSEUDONYM, linked_at=NOW)
    client = consenting_client()
    post(client, views(1))
    assert [e.pseudonym for e in stored()] == [PSEUDONYM]
    if stop == "withdrawn":
        consents.consent_withdraw(
            subject=person, purpose=ConsentPurpose.ANALYTICS, method="preference_center"
        )
    else:
        consents.restriction_start(subject=person, method="preference_center")
    post(client, views(1))
    first, later = stored()
    assert (later.pseudonym, len(later.visitor_key)) == ("", 64)
    assert first.pseudonym == PSEUDONYM  # what was collected with consent stays (until erasure)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"nope", "not_json"),
        (views(51), "too_many"),
        (json.dumps({"events": [{"kind": "view", "view": "x", "path": "/"}]}).encode(), "bad_view"),
    ],
)
def test_a_malformed_beacon_is_400_with_its_code_and_stores_nothing(body, code):
    response = post(Client(), body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert stored() == []
    assert event_buffer.pending() == 0


def test_an_oversized_body_is_refused_before_it_is_read():
    response = post(Client(), b"x" * 20_000)
    assert (response.status_code, response.json()["error"]["code"]) == (400, "too_large")


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
    ],
)
def test_cross_site_beacons_are_403(headers):
    response = post(Client(), views(1), **headers)
    assert (response.status_code, response.json()["error"]["code"]) == (403, "cross_site")
    assert stored() == []


def test_same_origin_beacons_are_accepted():
    headers = {"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"}
    assert post(Client(), views(1), **headers).status_code == 204
    assert len(stored()) == 1


def test_other_methods_are_405():
    response = Client().get("/a/e")
    assert (response.status_code, response["Allow"]) == (405, "POST")


def test_the_beacon_sets_no_cookie_and_needs_no_csrf_token():
    client = Client(enforce_csrf_checks=True)
    response = post(client, views(1))
    assert response.status_code == 204
    assert response.cookies == {}


def test_events_wait_for_the_flushing_thread_and_none_is_lost(settings):
    settings.ANALYTICS_BATCH_SIZE = 500
    client = Client()
    for _ in range(24):
        assert post(client, views(50)).status_code == 204
    # 1,200 events: more than two batches, but a request never writes (the thread does, off here).
    assert Event.objects.count() == 0
    assert event_buffer.pending() == 1_200
    assert event_buffer.flush() == 1_200
    assert Event.objects.count() == 1_200


def test_a_database_outage_is_503_not_500(monkeypatch):
    """Test double: the analytics database not answering (it cannot be stopped under a test)."""

    def outage() -> bytes:
        raise OperationalError("connection refused")

    monkeypatch.setattr(keys, "salt_for_today", outage)
    response = post(Client(), views(1))
    assert (response.status_code, response.json()["error"]["code"]) == (503, "unavailable")
    assert event_buffer.pending() == 0
