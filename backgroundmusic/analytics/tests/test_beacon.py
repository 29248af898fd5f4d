"""POST /a/e end to end: modes, refusals, batching, and identification stopping at write time."""

import json
import secrets
import uuid
from datetime import UTC, datetime

import pytest
from django.core import signing
from django.db import OperationalError
from django.test import Client

from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.analytics import keys
from backgroundmusic.analytics.buffer import event_buffer
from backgroundmusic.analytics.identity import PSEUDONYM as ISSUED_SHAPE
from backgroundmusic.analytics.identity import cookie_value_for, pseudonym_from_cookie
from backgroundmusic.analytics.models import AnalyticsIdentity, Event, VisitorSalt
from backgroundmusic.analytics.selectors import dashboard
from backgroundmusic.analytics.tests.factories import visits
from backgroundmusic.core import clock
from backgroundmusic.privacy import consents, cookies
from backgroundmusic.privacy.models import ConsentPurpose
from backgroundmusic.staffroles.roles import StaffRole

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
    client.cookies[cookies.ANALYTICS_COOKIE] = cookie_value_for(pseudonym)
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


def cookieless_key() -> str:
    salt = bytes(VisitorSalt.objects.get(day=clock.now().date()).secret)
    return keys.visitor_key(salt=salt, truncated_ip="203.0.113.0", browser="Chrome")


def forged_cookie(number: int) -> str:
    """A well-formed bm_aid the server never issued: unsigned (the form before signing), or
    with a made-up signature."""
    pseudonym = secrets.token_urlsafe(16)
    return pseudonym if number % 2 else f"{pseudonym}:{secrets.token_urlsafe(32)}"


def test_sixteen_forged_cookies_count_as_one_cookieless_visitor():
    for number in range(16):
        client = consenting_client()
        client.cookies[cookies.ANALYTICS_COOKIE] = forged_cookie(number)
        assert post(client, views(1)).status_code == 204
    events = stored()
    assert len(events) == 16
    assert {(event.pseudonym, event.visitor_key) for event in events} == {("", cookieless_key())}


def test_a_cookie_issued_by_a_page_makes_its_pseudonym_stored():
    client = consenting_client()
    del client.cookies[cookies.ANALYTICS_COOKIE]
    issued = client.get("/catalog/").cookies[cookies.ANALYTICS_COOKIE].value
    pseudonym, _signature = issued.split(":")
    assert ISSUED_SHAPE.match(pseudonym)
    assert post(client, views(1)).status_code == 204
    [event] = stored()
    assert (event.pseudonym, event.visitor_key) == (pseudonym, pseudonym)


def tampered(value: str, where: str) -> str:
    pseudonym, signature = value.split(":")
    if where == "signature":
        return f"{pseudonym}:{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"
    if where == "pseudonym":
        return f"{pseudonym[:-1]}{'B' if pseudonym[-1] == 'A' else 'A'}:{signature}"
    return signing.Signer(salt="another.salt").sign(pseudonym)


@pytest.mark.parametrize("where", ["signature", "pseudonym", "other_salt"])
def test_a_tampered_cookie_is_a_cookieless_visit(where):
    client = consenting_client()
    client.cookies[cookies.ANALYTICS_COOKIE] = tampered(cookie_value_for(PSEUDONYM), where)
    assert post(client, views(1)).status_code == 204
    [event] = stored()
    assert (event.pseudonym, event.visitor_key) == ("", cookieless_key())


def test_forged_visitors_do_not_lift_a_row_over_the_hiding_threshold():
    """Eight real visitors of a page and one client with sixteen made-up cookies: nine
    visitors, under the threshold of ten, so the page is not shown."""
    analyst = Client()
    analyst.force_login(StaffFactory.create(role=StaffRole.ANALYST))
    with clock.frozen_at(NOW):
        visits(at=NOW, path="/lifted/", visitors=8, key_prefix="r")
        for number in range(16):
            client = consenting_client()
            client.cookies[cookies.ANALYTICS_COOKIE] = forged_cookie(number)
            assert post(client, views(1, path="/lifted/")).status_code == 204
        event_buffer.flush()
        figures = dashboard(start=NOW.date(), end=NOW.date())
        page = analyst.get("/staff/analytics/?start=2026-11-24&end=2026-11-24")
    assert Event.objects.filter(path="/lifted/").count() == 24
    pages = figures.pages
    assert (pages.rows, pages.other, pages.suppressed) == ([], None, 1)
    assert (pages.total.page_views, pages.total.visitors) == (0, 0)
    assert page.status_code == 200
    assert "/lifted/" not in page.content.decode()


def test_sixteen_issued_cookies_are_sixteen_visitors():
    """The same page with sixteen browsers that got their cookies from a page: 24 visitors."""
    with clock.frozen_at(NOW):
        visits(at=NOW, path="/lifted/", visitors=8, key_prefix="r")
        issued = set()
        for _number in range(16):
            client = consenting_client()
            del client.cookies[cookies.ANALYTICS_COOKIE]
            value = client.get("/catalog/").cookies[cookies.ANALYTICS_COOKIE].value
            issued.add(pseudonym_from_cookie(value))
            assert post(client, views(1, path="/lifted/")).status_code == 204
        event_buffer.flush()
        pages = dashboard(start=NOW.date(), end=NOW.date()).pages
    assert len(issued) == 16
    assert set(Event.objects.exclude(pseudonym="").values_list("pseudonym", flat=True)) == issued
    assert [(row.label, row.page_views, row.visitors) for row in pages.rows] == [
        ("/lifted/", 24, 24)
    ]


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


def test_a_referrer_that_is_no_valid_host_is_stored_as_none():
    referrers = [
        'http://=hyperlink("http://x","y")',
        "https://ya.ru/search?text=music",
        "https://ЯНДЕКС.рф/",
        "https://exa mple.com/",
    ]
    body = json.dumps(
        {
            "events": [
                {"kind": "view", "view": str(uuid.uuid4()), "path": "/", "referrer": referrer}
                for referrer in referrers
            ]
        }
    ).encode()
    assert post(Client(), body).status_code == 204
    assert [event.referrer_host for event in stored()] == [
        "",
        "ya.ru",
        "xn--d1acpjx3f.xn--p1ai",
        "",
    ]
