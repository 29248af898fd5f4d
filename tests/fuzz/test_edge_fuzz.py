"""Hypothesis fuzz of every public entry point with hostile text (issue 9).

Every entry point (the beacon, sign-up, login, the profile, the privacy center's forms, the cookie
choice, the API's query parameters and body parser, stream URLs) gets text with lone surrogates,
NUL and other control characters, bidi controls, very long values, invalid UTF-8, and deeply
nested or malformed JSON, as a client can send them: form values and URLs percent-encoded from
any bytes, JSON with its escapes, header values as the test client passes them. The checks:
never a 5xx; every text column of every table round-trips UTF-8 and holds no NUL (what
PostgreSQL could not store); and once the hostile examples are done, good input still works.
"""

import json
import uuid
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.db import connections, models, router
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from backgroundmusic.accounts import services
from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import StaffFactory
from backgroundmusic.analytics.buffer import event_buffer
from backgroundmusic.analytics.models import Event
from backgroundmusic.core import clock
from backgroundmusic.core.tests.test_edge import body_probe_client
from backgroundmusic.core.text import TextKind, check_text
from backgroundmusic.inbox.services import confirmation_token, inbound_record
from backgroundmusic.inbox.tests.letters import letter
from backgroundmusic.mailing.models import Campaign, UnsubscribeToken
from backgroundmusic.mailing.services import unsubscribe_tokens_ensure
from backgroundmusic.media.streaming import playable_url
from backgroundmusic.media.tests.streaming_fixtures import playable_track
from backgroundmusic.privacy import optin
from backgroundmusic.privacy.consents import consent_allows, consent_give
from backgroundmusic.privacy.kernel.pseudonyms import unsubscribe_token
from backgroundmusic.privacy.models import (
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    DataSubjectRequest,
    Recipient,
)
from backgroundmusic.staffroles.roles import StaffRole
from tests.fuzz.test_forms_fuzz import PHASES, separate_example
from tests.smtp_server import SmtpServer

pytestmark = pytest.mark.django_db(databases="__all__")

PASSWORD = "violet-harbour-1987"
EDGE = hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    phases=PHASES,
)

HOSTILE_CHARACTERS = st.sampled_from(
    [
        "\ud800",  # lone surrogates
        "\udfff",
        "\x00",  # NUL and other C0, DEL and C1 controls
        "\x07",
        "\x1b",
        "\x7f",
        "\x85",
        "\x9f",
        "\t",
        "\n",
        "\r",
        "\u2028",
        "\u202a",  # bidi embeddings, overrides, isolates, and the marks (allowed)
        "\u202e",
        "\u2066",
        "\u2069",
        "\u200f",
        "\ufeff",
        "\ufffd",
    ]
)
HOSTILE_TEXT = st.one_of(
    st.lists(st.one_of(HOSTILE_CHARACTERS, st.characters()), max_size=30).map("".join),
    st.builds(
        lambda a, b, c: a + b + c, st.text(max_size=12), HOSTILE_CHARACTERS, st.text(max_size=12)
    ),
    st.integers(min_value=1_000, max_value=20_000).map(lambda n: "x" * n),  # very long
    st.integers(min_value=100, max_value=3_000).map(lambda n: "\u202e\ud800\x00" * n),
)
# What reaches the server: the UTF-8 bytes of the text (surrogates encoded as they would be by a
# careless client), or any bytes at all.
HOSTILE_BYTES = st.one_of(
    HOSTILE_TEXT.map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.binary(max_size=40),
)
DEEP_JSON = st.integers(min_value=30, max_value=3_000).map(
    lambda depth: ("[" * depth + "]" * depth).encode()
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | HOSTILE_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(HOSTILE_TEXT, inner, max_size=3),
    max_leaves=8,
)
HEADERS = st.fixed_dictionaries(
    {}, optional={"User-Agent": HOSTILE_TEXT, "Accept-Language": HOSTILE_TEXT}
)


def form_body(fields: dict[str, bytes]) -> bytes:
    return b"&".join(
        quote_from_bytes(name.encode("utf-8", "surrogatepass")).encode()
        + b"="
        + quote_from_bytes(value).encode()
        for name, value in fields.items()
    )


def url_segment(value: bytes) -> str:
    return quote_from_bytes(value, safe="")


def post_form(client: Client, url: str, fields: dict[str, bytes], **extra: Any) -> Any:
    return client.post(
        url, form_body(fields), content_type="application/x-www-form-urlencoded", **extra
    )


@st.composite
def hostile_fields(draw: st.DrawFn, good: dict[str, str]) -> dict[str, bytes]:
    """The good fields, some replaced with hostile bytes, and maybe a hostile extra field."""
    fields = {name: value.encode() for name, value in good.items()}
    for name in draw(st.sets(st.sampled_from(sorted(good)), min_size=1)):
        fields[name] = draw(HOSTILE_BYTES)
    if draw(st.booleans()):
        fields[draw(HOSTILE_TEXT)] = draw(HOSTILE_BYTES)
    return fields


def assert_everything_stored_is_storable() -> None:
    """Every text column of every table, read raw: valid UTF-8 and no NUL."""
    for model in apps.get_models():
        columns = [
            field.column
            for field in model._meta.concrete_fields
            if isinstance(field, models.CharField | models.TextField)
        ]
        if not columns or model._meta.proxy or not model._meta.managed:
            continue
        connection = connections[router.db_for_read(model)]
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(map(quote, columns))} FROM {quote(model._meta.db_table)}"  # noqa: S608
            )
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, str):
                        value.encode("utf-8")
                        assert "\x00" not in value, (model.__name__, column, value)


def check_response(response: Any) -> None:
    assert response.status_code < 500, (response.status_code, response.content[:300])
    assert_everything_stored_is_storable()


@pytest.fixture
def person(db) -> User:
    return services.user_create(
        username="edge_person", email="edge@example.com", password=PASSWORD, email_verified=True
    )


@pytest.fixture
def person_client(person: User) -> Client:
    client = Client()
    client.force_login(person)
    return client


def good_beacon() -> bytes:
    view = str(uuid.uuid4())
    return json.dumps({"events": [{"kind": "view", "view": view, "path": "/catalog/"}]}).encode()


@st.composite
def hostile_beacons(draw: st.DrawFn) -> bytes:
    event: dict[str, Any] = {"kind": "view", "view": str(uuid.uuid4()), "path": "/catalog/"}
    for name in draw(st.sets(st.sampled_from(["kind", "view", "path", "referrer", "language"]))):
        event[name] = draw(HOSTILE_TEXT | st.just("/catalog/" + draw(HOSTILE_TEXT)))
    if draw(st.booleans()):
        event[draw(HOSTILE_TEXT)] = draw(JSON_VALUES)
    return draw(
        st.one_of(
            st.just(json.dumps({"events": [event]}).encode()),
            st.just(
                json.dumps({"events": [event]}, ensure_ascii=False).encode("utf-8", "surrogatepass")
            ),
            DEEP_JSON,
            DEEP_JSON.map(lambda deep: b'{"events": [' + deep + b"]}"),
            st.binary(max_size=200),
            JSON_VALUES.map(lambda value: json.dumps(value).encode()),
        )
    )


def test_the_beacon(client: Client) -> None:
    @EDGE
    @given(body=hostile_beacons(), headers=HEADERS)
    def hostile(body: bytes, headers: dict[str, str]) -> None:
        with separate_example(client, new_visitor=True):
            before = Event.objects.count()
            response = client.post("/a/e", body, content_type="text/plain", headers=headers)
            event_buffer.flush()
            check_response(response)
            assert response.status_code in (204, 400, 403)
            if response.status_code != 204:
                assert set(response.json()["error"]) == {"code", "message"}
                assert Event.objects.count() == before

    hostile()
    body = good_beacon()
    assert client.post("/a/e", body, content_type="text/plain").status_code == 204
    event_buffer.flush()
    view = json.loads(body)["events"][0]["view"]
    assert list(Event.objects.filter(view_id=view).values_list("path", flat=True)) == ["/catalog/"]


SIGNUP = {
    "username": "new_person",
    "email": "new.person@example.com",
    "password1": PASSWORD,
    "password2": PASSWORD,
    "agreement": "on",
}


def test_sign_up(client: Client, smtp_server: SmtpServer) -> None:
    @EDGE
    @given(fields=hostile_fields(SIGNUP), headers=HEADERS)
    def hostile(fields: dict[str, bytes], headers: dict[str, str]) -> None:
        with separate_example(client, new_visitor=True):
            check_response(post_form(client, "/accounts/signup/", fields, headers=headers))

    hostile()
    response = client.post("/accounts/signup/", SIGNUP)
    assert response.status_code == 302
    assert User.objects.filter(username="new_person", email="new.person@example.com").exists()


def test_login(client: Client, person: User) -> None:
    good = {"login": "edge_person", "password": PASSWORD}

    @EDGE
    @given(fields=hostile_fields(good), headers=HEADERS)
    def hostile(fields: dict[str, bytes], headers: dict[str, str]) -> None:
        with separate_example(client, new_visitor=True):
            check_response(post_form(client, "/accounts/login/", fields, headers=headers))

    hostile()
    response = client.post("/accounts/login/", good, headers={"User-Agent": "Mozilla/5.0"})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(person.pk)


PROFILE = {
    "username": "edge_person",
    "full_name": "Edge Person",
    "account_type": "natural",
    "company_name": "",
    "tax_id": "",
    "address_country": "Netherlands",
    "address_region": "North Holland",
    "address_city": "Amsterdam",
    "address_street": "Prinsengracht 263",
    "address_postcode": "1016 GV",
    "links-TOTAL_FORMS": "1",
    "links-INITIAL_FORMS": "0",
    "links-MIN_NUM_FORMS": "0",
    "links-MAX_NUM_FORMS": "20",
    "links-0-url": "https://edge.example/me",
}


def test_the_profile(person_client: Client, person: User) -> None:
    @EDGE
    @given(fields=hostile_fields(PROFILE))
    def hostile(fields: dict[str, bytes]) -> None:
        with separate_example(person_client, new_visitor=False):
            check_response(post_form(person_client, "/account/profile/", fields))

    hostile()
    response = person_client.post("/account/profile/", {**PROFILE, "full_name": "Edge Again"})
    assert response.status_code == 302
    person.profile.refresh_from_db()
    assert person.profile.full_name == "Edge Again"


PRIVACY_FORMS = {
    "/privacy/consents/": {"purpose": "newsletter", "action": "give", "recipient": ""},
    "/privacy/restriction/": {"action": "start"},
    "/cookies/choice/": {"action": "save", "analytics": "1", "next": "/catalog/"},
    "/privacy/delete/": {"confirmation": "edge_person"},
    "/privacy-policy/acknowledge/": {"edition": "1", "next": "/"},
}


@st.composite
def privacy_posts(draw: st.DrawFn) -> tuple[str, dict[str, bytes]]:
    url = draw(st.sampled_from(sorted(PRIVACY_FORMS)))
    return url, draw(hostile_fields(PRIVACY_FORMS[url]))


def test_the_privacy_center_forms_and_the_cookie_choice(person_client: Client) -> None:
    Recipient.objects.create(
        name="Edge Partner", country="NL", purpose_en="x", purpose_ru="x", shared_with_consent=True
    )

    @EDGE
    @given(post=privacy_posts())
    def hostile(post: tuple[str, dict[str, bytes]]) -> None:
        url, fields = post
        with separate_example(person_client, new_visitor=False):
            check_response(post_form(person_client, url, fields))

    hostile()
    response = person_client.post("/cookies/choice/", {"action": "accept_all", "next": "/"})
    assert (response.status_code, response["Location"]) == (302, "/")
    response = person_client.post("/privacy/consents/", {"purpose": "newsletter", "action": "give"})
    assert response.status_code == 302


API_PARAMETERS = st.sampled_from(["q", "genre", "mood", "sort", "page", "page_size", "bpm_min"])


# Operations whose path ends in one parameter; /api/me/ ones are the person's (person_client).
API_PATHS = [
    "/api/tracks/",
    "/api/collections/",
    "/api/plans/",
    "/api/certificates/",
    "/api/me/agreements/",
    "/api/me/orders/",
]


@st.composite
def api_urls(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["query", "downloads", "path"]))
    if kind == "path":
        return draw(st.sampled_from(API_PATHS)) + url_segment(draw(HOSTILE_BYTES))
    if kind == "downloads":
        name = draw(st.sampled_from([b"page", b"page_size"]) | HOSTILE_BYTES)
        return f"/api/me/downloads?{url_segment(name)}={url_segment(draw(HOSTILE_BYTES))}"
    pairs = draw(
        st.lists(
            st.tuples(
                API_PARAMETERS.map(str.encode) | HOSTILE_BYTES, HOSTILE_BYTES | st.just(b"calm")
            ),
            min_size=1,
            max_size=4,
        )
    )
    query = "&".join(f"{url_segment(name)}={url_segment(value)}" for name, value in pairs)
    return f"/api/tracks?{query}"


@pytest.mark.parametrize("signed_in", [False, True])
def test_api_query_parameters_and_paths(client: Client, person_client: Client, signed_in) -> None:
    caller = person_client if signed_in else client

    @EDGE
    @given(url=api_urls(), headers=HEADERS)
    def hostile(url: str, headers: dict[str, str]) -> None:
        response = caller.get(url, headers=headers)
        check_response(response)
        # A path outside every operation (an empty or split segment) is Django's 404 page.
        if response.status_code == 400:
            assert set(response.json()["error"]) == {"code", "message", "details"}, url

    hostile()
    response = caller.get("/api/tracks", {"q": "calm"})
    assert response.status_code == 200
    assert response.json()["total"] == 0


def test_the_api_body_parser() -> None:
    body_api = body_probe_client()

    @EDGE
    @given(
        body=st.one_of(
            DEEP_JSON,
            st.binary(max_size=200),
            JSON_VALUES.map(lambda value: json.dumps({"text": value}).encode()),
        )
    )
    def hostile(body: bytes) -> None:
        response = body_api.post("/notes", body=body, content_type="application/json")
        assert response.status_code in (200, 400, 422), response.content
        if response.status_code == 200:
            response.json()["text"].encode("utf-8")
        else:
            assert set(response.json()["error"]) == {"code", "message", "details"}

    hostile()
    response = body_api.post("/notes", body=b'{"text": "calm"}', content_type="application/json")
    assert (response.status_code, response.json()) == (200, {"text": "calm"})


def test_stream_urls(client: Client) -> None:
    track = playable_track()

    @EDGE
    @given(token=HOSTILE_BYTES, headers=HEADERS)
    def hostile(token: bytes, headers: dict[str, str]) -> None:
        check_response(client.get("/stream/" + url_segment(token), headers=headers))

    hostile()
    url = playable_url(user=AnonymousUser(), track=track, kind="preview")
    assert url is not None
    response = client.get(url)
    assert response.status_code == 200


def test_the_newsletter_confirmation_link(client: Client, person: User) -> None:
    """The link's page, GET and POST, with hostile tokens: never a 500, never a consent."""
    asked = optin.newsletter_optin_request(subject=person)

    @EDGE
    @given(token=HOSTILE_BYTES, headers=HEADERS)
    def hostile(token: bytes, headers: dict[str, str]) -> None:
        path = "/privacy/confirm/" + url_segment(token) + "/"
        check_response(client.get(path, headers=headers))
        check_response(client.post(path, headers=headers))

    hostile()
    assert not ConsentRecord.objects.filter(subject=person).exists()
    response = client.post(f"/privacy/confirm/{optin.confirmation_token(asked)}/")
    assert response.status_code == 200
    assert ConsentRecord.objects.filter(subject=person, purpose="newsletter").count() == 1


def test_the_unsubscribe_link(client: Client, person: User) -> None:
    """The newsletter's unsubscribe page and its one-click POST, with hostile tokens and bodies:
    never a 500, never a withdrawal for anyone; the real token still works afterwards."""
    consent_give(subject=person, purpose=ConsentPurpose.NEWSLETTER, method=ConsentMethod.FORM)
    unsubscribe_tokens_ensure(user_ids=[person.pk])
    token = unsubscribe_token(seed=UnsubscribeToken.objects.get(user=person).seed)

    @EDGE
    @given(token=HOSTILE_BYTES, body=HOSTILE_BYTES, headers=HEADERS)
    def hostile(token: bytes, body: bytes, headers: dict[str, str]) -> None:
        path = "/mail/unsubscribe/" + url_segment(token) + "/"
        check_response(client.get(path, headers=headers))
        check_response(
            client.post(
                path, body, content_type="application/x-www-form-urlencoded", headers=headers
            )
        )

    hostile()
    assert consent_allows(subject=person, purpose=ConsentPurpose.NEWSLETTER)
    response = client.post(
        f"/mail/unsubscribe/{token}/",
        b"List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert not consent_allows(subject=person, purpose=ConsentPurpose.NEWSLETTER)


def test_the_request_confirmation_link(client: Client, person: User) -> None:
    """The link confirming a request sent by e-mail, GET and POST, with hostile tokens: never a
    500, and the request stays unconfirmed until its own link is posted."""
    letter_record = inbound_record(
        raw=letter(sender=person.email, subject="Delete my data"), received_at=clock.now()
    )
    request = DataSubjectRequest.objects.get()

    @EDGE
    @given(token=HOSTILE_BYTES, headers=HEADERS)
    def hostile(token: bytes, headers: dict[str, str]) -> None:
        path = "/privacy/requests/confirm/" + url_segment(token) + "/"
        check_response(client.get(path, headers=headers))
        check_response(client.post(path, headers=headers))

    hostile()
    request.refresh_from_db()
    assert (request.subject_id, request.identity) == (None, DataSubjectRequest.Identity.UNVERIFIED)
    path = f"/privacy/requests/confirm/{confirmation_token(message=letter_record)}/"
    assert client.post(path).status_code == 200
    request.refresh_from_db()
    assert (request.subject_id, request.identity) == (
        person.pk,
        DataSubjectRequest.Identity.VERIFIED,
    )


def test_the_public_request_form_and_its_code(client: Client) -> None:
    """The public request form and the code page (a visitor, no account), with hostile fields:
    never a 500, nothing logged from a hostile code, and a good request still gets its code."""
    good = {"email": "edge-visitor@example.org", "kind": "access", "details": "My data"}

    @EDGE
    @given(form=hostile_fields(good), code=hostile_fields({"op": "verify", "code": "123456"}))
    def hostile(form: dict[str, bytes], code: dict[str, bytes]) -> None:
        with separate_example(client, new_visitor=True):
            check_response(post_form(client, "/privacy/request/", form))
            check_response(post_form(client, "/privacy/request/code/", code))

    hostile()
    assert not DataSubjectRequest.objects.exists()
    with separate_example(client, new_visitor=True):
        response = client.post("/privacy/request/", good)
        assert (response.status_code, response["Location"]) == (302, "/privacy/request/code/")
        response = client.post("/privacy/request/code/", {"op": "verify", "code": "12345x"})
        assert response.status_code == 400


def test_the_campaign_form(client: Client) -> None:
    """A newsletter editor's campaign form with hostile text: never a 500, and a campaign is
    saved only from text that passes the rules."""
    editor = StaffFactory.create(role=StaffRole.NEWSLETTER_EDITOR)
    client.force_login(editor)
    good = {
        "subject_en": "News",
        "body_en": "Calm tracks.",
        "subject_ru": "Новости",
        "body_ru": "Спокойные треки.",
    }

    @EDGE
    @given(fields=hostile_fields(good), headers=HEADERS)
    def hostile(fields: dict[str, bytes], headers: dict[str, str]) -> None:
        check_response(post_form(client, "/staff/mailing/new/", fields, headers=headers))

    hostile()
    for campaign in Campaign.objects.all():
        for value in (campaign.subject_en, campaign.subject_ru):
            check_text(value, TextKind.LINE)
        for value in (campaign.body_en, campaign.body_ru):
            check_text(value, TextKind.TEXT)
    saved = post_form(client, "/staff/mailing/new/", {k: v.encode() for k, v in good.items()})
    assert saved.status_code == 302
    assert Campaign.objects.filter(subject_en="News", subject_ru="Новости").exists()
