"""The bm_aid cookie follows the visitor's analytics consent on every page."""

import pytest
from django.core import signing
from django.test import Client

from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.analytics.identity import (
    PSEUDONYM,
    SIGNING_SALT,
    cookie_value_for,
    pseudonym_from_cookie,
)
from backgroundmusic.analytics.models import AnalyticsIdentity
from backgroundmusic.privacy import consents, cookies
from backgroundmusic.privacy.models import ConsentPurpose

pytestmark = pytest.mark.django_db(databases="__all__")

DELETED = (
    'Set-Cookie: bm_aid=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=Lax'
)


def with_choice(client: Client, *, analytics: bool) -> Client:
    client.cookies[cookies.CONSENT_COOKIE] = cookies.signed_choice_value(analytics=analytics)
    return client


def test_no_choice_no_cookie():
    response = Client().get("/catalog/")
    assert cookies.ANALYTICS_COOKIE not in response.cookies


def test_an_anonymous_visitor_who_accepted_gets_a_random_pseudonym_once():
    client = with_choice(Client(), analytics=True)
    first = client.get("/catalog/")
    morsel = first.cookies[cookies.ANALYTICS_COOKIE]
    pseudonym, signature = morsel.value.split(":")
    assert PSEUDONYM.match(pseudonym)
    assert signature == signing.Signer(salt=SIGNING_SALT).signature(pseudonym)
    assert (morsel["max-age"], morsel["httponly"], morsel["samesite"], morsel["secure"]) == (
        cookies.ANALYTICS_COOKIE_AGE,
        True,
        "Lax",
        "",
    )
    assert cookies.ANALYTICS_COOKIE not in client.get("/catalog/").cookies  # kept, not renewed
    assert AnalyticsIdentity.objects.count() == 0  # nobody to link it to


def test_the_cookie_is_secure_on_https(settings):
    settings.HTTPS = True
    response = with_choice(Client(), analytics=True).get("/catalog/", secure=True)
    assert response.cookies[cookies.ANALYTICS_COOKIE]["secure"] is True


@pytest.mark.parametrize("signal", ["refused", "do_not_track"])
def test_the_cookie_is_deleted_without_consent(signal):
    client = with_choice(Client(), analytics=signal != "refused")
    client.cookies[cookies.ANALYTICS_COOKIE] = "AbCdEfGhIjKlMnOpQrStUv"
    headers = {"DNT": "1"} if signal == "do_not_track" else {}
    response = client.get("/catalog/", headers=headers)
    assert response.cookies[cookies.ANALYTICS_COOKIE].output() == DELETED


def test_a_signed_in_person_with_consent_is_linked_through_the_mapping_only():
    person = UserFactory.create()
    consents.consent_give(subject=person, purpose=ConsentPurpose.ANALYTICS, method="banner")
    client = with_choice(Client(), analytics=True)
    client.force_login(person)
    value = client.get("/catalog/").cookies[cookies.ANALYTICS_COOKIE].value
    pseudonym = pseudonym_from_cookie(value)
    assert PSEUDONYM.match(pseudonym)
    assert list(AnalyticsIdentity.objects.values_list("user_id", "pseudonym")) == [
        (person.pk, pseudonym)
    ]
    client.get("/catalog/")
    assert AnalyticsIdentity.objects.count() == 1


def test_a_pseudonym_of_another_account_is_replaced_not_shared():
    first, second = UserFactory.create(), UserFactory.create()
    for person in (first, second):
        consents.consent_give(subject=person, purpose=ConsentPurpose.ANALYTICS, method="banner")
    AnalyticsIdentity.objects.create(
        user=first, pseudonym="AbCdEfGhIjKlMnOpQrStUv", linked_at="2026-11-01T00:00Z"
    )
    client = with_choice(Client(), analytics=True)
    client.cookies[cookies.ANALYTICS_COOKIE] = cookie_value_for("AbCdEfGhIjKlMnOpQrStUv")
    client.force_login(second)
    new = pseudonym_from_cookie(client.get("/catalog/").cookies[cookies.ANALYTICS_COOKIE].value)
    assert PSEUDONYM.match(new)
    assert new != "AbCdEfGhIjKlMnOpQrStUv"
    assert AnalyticsIdentity.objects.get(user=second).pseudonym == new


def test_a_restricted_person_loses_the_cookie_on_the_next_page():
    person = UserFactory.create()
    consents.consent_give(subject=person, purpose=ConsentPurpose.ANALYTICS, method="banner")
    client = with_choice(Client(), analytics=True)
    client.force_login(person)
    assert cookies.ANALYTICS_COOKIE in client.get("/catalog/").cookies
    consents.restriction_start(subject=person, method="preference_center")
    assert client.get("/catalog/").cookies[cookies.ANALYTICS_COOKIE].output() == DELETED


FORGED = [
    "AbCdEfGhIjKlMnOpQrStUv",  # the unsigned form every cookie had before signing
    "AbCdEfGhIjKlMnOpQrStUv:" + "A" * 43,
    signing.Signer(salt="another.salt").sign("AbCdEfGhIjKlMnOpQrStUv"),
    "not-a-pseudonym",
]


@pytest.mark.parametrize("forged", FORGED)
def test_a_cookie_the_server_did_not_issue_is_replaced_by_an_issued_one(forged):
    client = with_choice(Client(), analytics=True)
    client.cookies[cookies.ANALYTICS_COOKIE] = forged
    value = client.get("/catalog/").cookies[cookies.ANALYTICS_COOKIE].value
    pseudonym = pseudonym_from_cookie(value)
    assert PSEUDONYM.match(pseudonym)
    assert value == cookie_value_for(pseudonym)
    assert not value.startswith("AbCdEfGhIjKlMnOpQrStUv")
    assert cookies.ANALYTICS_COOKIE not in client.get("/catalog/").cookies  # now kept


def test_a_forged_cookie_of_a_signed_in_person_links_only_the_issued_pseudonym():
    person = UserFactory.create()
    consents.consent_give(subject=person, purpose=ConsentPurpose.ANALYTICS, method="banner")
    client = with_choice(Client(), analytics=True)
    client.cookies[cookies.ANALYTICS_COOKIE] = "AbCdEfGhIjKlMnOpQrStUv"
    client.force_login(person)
    value = client.get("/catalog/").cookies[cookies.ANALYTICS_COOKIE].value
    assert list(AnalyticsIdentity.objects.values_list("user_id", "pseudonym")) == [
        (person.pk, pseudonym_from_cookie(value))
    ]


@pytest.mark.parametrize(
    "value",
    [
        "",
        "AbCdEfGhIjKlMnOpQrStUv",
        "AbCdEfGhIjKlMnOpQrStUv:",
        "AbCdEfGhIjKlMnOpQrStU:" + "A" * 43,
        "AbCdEfGhIjKlMnOpQrStUv:" + "A" * 44,
        "\ud800" * 66,
    ],
)
def test_a_value_not_shaped_like_a_signed_pseudonym_names_none(value):
    assert pseudonym_from_cookie(value) == ""


def test_a_signature_made_with_another_secret_key_names_none_unless_it_is_a_fallback(settings):
    value = cookie_value_for("AbCdEfGhIjKlMnOpQrStUv")
    issuing_key = settings.SECRET_KEY
    settings.SECRET_KEY = "another secret key, long enough to be one: " + "x" * 40
    assert pseudonym_from_cookie(value) == ""
    # After a key rotation that keeps the old key as a fallback, issued cookies still count.
    settings.SECRET_KEY_FALLBACKS = [issuing_key]
    assert pseudonym_from_cookie(value) == "AbCdEfGhIjKlMnOpQrStUv"
