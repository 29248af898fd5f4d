"""Where text from outside meets the rules: the edge middleware, every form, the API's parser."""

import importlib
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from allauth.account import forms as account_forms
from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from axes.models import AccessAttempt
from django import forms
from django.conf import settings
from django.test import Client
from django.utils import translation
from django.utils.module_loading import import_string
from ninja import NinjaAPI, Router, Schema
from ninja.errors import HttpError, ValidationError
from ninja.testing import TestClient

from backgroundmusic.accounts import services
from backgroundmusic.accounts.models import User
from backgroundmusic.api.api import api, on_domain_error, on_http_error, on_validation_error
from backgroundmusic.core.errors import DomainError
from backgroundmusic.core.forms import TextRulesMixin

pytestmark = pytest.mark.django_db

PASSWORD = "violet-harbour-1987"
BIDI_MESSAGE = (
    "The text holds the bidirectional control U+202E, which makes text read differently from "
    "what it is; remove it."
)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def raw_form(**fields: bytes) -> bytes:
    """A form body as a client may send it: any bytes, percent-encoded."""
    return b"&".join(
        quote_from_bytes(name.encode()).encode() + b"=" + quote_from_bytes(value).encode()
        for name, value in fields.items()
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/catalog/?q=a%00b", "The text holds the NUL character (U+0000), which cannot be stored."),
        ("/catalog/a%00b/", "The text holds the NUL character (U+0000), which cannot be stored."),
        ("/u/a%00b/", "The text holds the NUL character (U+0000), which cannot be stored."),
        ("/catalog/?a%00=1", "The text holds the NUL character (U+0000), which cannot be stored."),
    ],
)
def test_a_path_or_query_that_could_not_be_stored_is_a_400_page_in_both_languages(url, message):
    response = Client().get(url)
    assert response.status_code == 400
    page = response.content.decode()
    assert "<h1>Bad request</h1>" in page
    assert f"<p>{message}</p>" in page
    assert '<h2 lang="ru">Неверный запрос</h2>' in page
    assert '<p lang="ru">В тексте есть' in page


def test_a_header_with_a_control_character_is_refused_before_any_sign_in_record():
    services.user_create(
        username="probe", email="probe@example.com", password=PASSWORD, email_verified=True
    )
    client = Client(headers={"User-Agent": "Mozilla\x00/5.0"})
    response = client.post("/accounts/login/", {"login": "probe", "password": PASSWORD})
    assert response.status_code == 400
    assert "The text holds the NUL character (U+0000)" in response.content.decode()
    assert (UserSession.objects.count(), AccessAttempt.objects.count()) == (0, 0)
    assert "_auth_user_id" not in client.session


def test_a_header_of_utf_8_bytes_is_taken():
    services.user_create(
        username="probe", email="probe@example.com", password=PASSWORD, email_verified=True
    )
    agent = "Mozilla/5.0 Жук".encode().decode("latin-1")  # as WSGI hands it over
    client = Client(headers={"User-Agent": agent})
    response = client.post("/accounts/login/", {"login": "probe", "password": PASSWORD})
    assert response.status_code == 302
    assert "_auth_user_id" in client.session
    assert list(UserSession.objects.values_list("user_agent", flat=True)) == [agent]


def test_a_form_value_that_could_not_be_stored_is_refused_and_changes_nothing():
    body = raw_form(
        username=b"new\x00person",
        email=b"new@example.com",
        password1=PASSWORD.encode(),
        password2=PASSWORD.encode(),
        agreement=b"on",
    )
    response = Client().post(
        "/accounts/signup/", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert User.objects.count() == 0


def test_an_encoded_lone_surrogate_arrives_as_replacement_characters():
    # Django decodes form bodies with errors="replace": the three bytes of an encoded surrogate
    # become three U+FFFD, which is a value like any other.
    body = raw_form(
        username="new\ud800person".encode("utf-8", "surrogatepass"),
        email=b"new@example.com",
        password1=PASSWORD.encode(),
        password2=PASSWORD.encode(),
        agreement=b"on",
    )
    response = Client().post(
        "/accounts/signup/", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert "Enter a valid username" in response.content.decode()
    assert User.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value", "code_point"),
    [("username", "new\u202eperson", "202E"), ("email", "new@exam\u2066ple.com", "2066")],
)
def test_sign_up_refuses_a_bidi_control_as_a_form_error_and_keeps_what_was_typed(
    field, value, code_point
):
    post = {
        "username": "new_person",
        "email": "new@example.com",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "agreement": "on",
        field: value,
    }
    response = Client().post("/accounts/signup/", post)
    assert response.status_code == 200
    assert response.context["form"].errors[field][0] == BIDI_MESSAGE.replace("202E", code_point)
    assert User.objects.count() == EmailAddress.objects.count() == 0
    page = response.content.decode()
    assert f'value="{value}"' in page


def test_login_refuses_a_control_character_in_the_login_as_a_form_error():
    services.user_create(
        username="probe", email="probe@example.com", password=PASSWORD, email_verified=True
    )
    response = Client().post("/accounts/login/", {"login": "pro\x07be", "password": PASSWORD})
    assert response.status_code == 200
    assert response.context["form"].errors["login"] == [
        "The text holds the control character U+0007; remove it."
    ]
    assert AccessAttempt.objects.count() == 0


def test_a_login_longer_than_any_account_can_have_is_a_form_error_with_no_sign_in_record():
    response = Client().post("/accounts/login/", {"login": "x" * 5000, "password": PASSWORD})
    assert response.status_code == 200
    assert response.context["form"].errors["login"] == [
        "Ensure this value has at most 254 characters (it has 5000)."
    ]
    assert AccessAttempt.objects.count() == 0


def test_a_password_may_hold_any_storable_character():
    password = "pass\u202e\x07word-1"
    services.user_create(
        username="probe", email="probe@example.com", password=password, email_verified=True
    )
    client = Client()
    response = client.post("/accounts/login/", {"login": "probe", "password": password})
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def _project_forms() -> list[type[Any]]:
    importlib.import_module(settings.ROOT_URLCONF)  # every view, so every form, is imported
    found: list[type[Any]] = []
    pending: list[type[Any]] = [forms.BaseForm]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("backgroundmusic.") and ".tests" not in cls.__module__:
            found.append(cls)
    return found


def test_every_form_of_the_project_is_under_the_text_rules():
    project_forms = _project_forms()
    assert len(project_forms) > 20
    assert [f for f in project_forms if not issubclass(f, TextRulesMixin)] == []


def test_every_allauth_form_that_takes_text_is_under_the_text_rules():
    configured = [*settings.ACCOUNT_FORMS.values(), *settings.MFA_FORMS.values()]
    assert all(issubclass(import_string(path), TextRulesMixin) for path in configured)
    assert issubclass(account_forms.SignupForm, TextRulesMixin)


def test_multi_line_fields_take_line_breaks_and_one_line_fields_do_not():
    from backgroundmusic.catalog.staff_forms import CollectionForm

    form = CollectionForm(
        {"kind": "mood", "title": "Calm\nmornings", "description": "Line one\r\nLine two\tend"}
    )
    assert not form.is_valid()
    assert form.errors["title"] == [
        "The text holds a line break or tab (U+000A); this value is one line."
    ]
    assert "description" not in form.errors


def test_the_api_refuses_bad_text_in_a_query_parameter_with_its_envelope():
    response = Client().get("/api/tracks", {"q": "calm\u202e"})
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "bidi_control",
            "message": f"Parameter “q”: {BIDI_MESSAGE}",
            "details": None,
        }
    }


def test_the_api_refuses_a_nul_in_its_path_or_query_at_the_edge_with_its_envelope():
    for url in ("/api/tracks?q=%00", "/api/tracks/a%00b"):
        response = Client().get(url)
        assert response.status_code == 400
        assert response.json() == {
            "error": {
                "code": "nul",
                "message": "The text holds the NUL character (U+0000), which cannot be stored.",
                "details": None,
            }
        }


def test_the_api_refusal_at_the_edge_is_in_the_language_the_request_asks_for():
    response = Client().get("/api/tracks?q=%00", headers={"Accept-Language": "ru"})
    assert response.json()["error"]["message"] == (
        "В тексте есть символ NUL (U+0000), его нельзя сохранить."
    )


class Note(Schema):
    text: str


def body_probe_client() -> TestClient:
    """An API with the site's parser and error handlers and one operation that takes a body (the
    site has none yet)."""
    probe = NinjaAPI(parser=api.parser, urls_namespace="edge-body-probe")
    for exc_class, handler in (
        (ValidationError, on_validation_error),
        (HttpError, on_http_error),
        (DomainError, on_domain_error),
    ):
        probe.add_exception_handler(exc_class, handler)  # type: ignore[arg-type]
    router = Router()

    @router.post("/notes")
    def notes(request: Any, note: Note) -> dict[str, str]:
        return {"text": note.text}

    probe.add_router("/", router)
    return TestClient(probe)


@pytest.fixture
def body_api() -> TestClient:
    return body_probe_client()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"[" * 1000 + b"]" * 1000, "too_deep"),
        (b'{"text": "\\ud800"}', "lone_surrogate"),
        (b'{"text": "a\\u0000"}', "nul"),
        (b'{"text": "\xff"}', "not_utf8"),
        (b'{"text": ', "not_json"),
        (b'{"text": NaN}', "not_json"),
    ],
)
def test_an_api_body_that_cannot_be_read_is_a_400_with_the_envelope(body_api, body, code):
    response = body_api.post("/notes", body=body, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message", "details"}
    assert response.json()["error"]["code"] == code


def test_an_api_body_within_the_rules_is_read(body_api):
    response = body_api.post(
        "/notes", body='{"text": "Тихое утро 🎵"}'.encode(), content_type="application/json"
    )
    assert (response.status_code, response.json()) == (200, {"text": "Тихое утро 🎵"})
