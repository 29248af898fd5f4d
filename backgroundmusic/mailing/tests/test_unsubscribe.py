"""The unsubscribe page: signed out, both languages, one button; a GET changes nothing, a POST
withdraws the newsletter consent; an unknown token is a 404 and changes nothing."""

import pytest
from django.test import Client

from backgroundmusic.mailing import services
from backgroundmusic.mailing.models import UnsubscribeToken
from backgroundmusic.mailing.tests.scene import person
from backgroundmusic.privacy.consents import consent_allows
from backgroundmusic.privacy.kernel.pseudonyms import unsubscribe_token
from backgroundmusic.privacy.models import (
    ConsentAction,
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
)

pytestmark = pytest.mark.django_db


def token_of(user) -> str:
    services.unsubscribe_tokens_ensure(user_ids=[user.pk])
    return unsubscribe_token(seed=UnsubscribeToken.objects.get(user=user).seed)


def ledger(user) -> list[tuple[str, str]]:
    return list(
        ConsentRecord.objects.filter(subject=user, purpose=ConsentPurpose.NEWSLETTER)
        .order_by("at", "pk")
        .values_list("action", "method")
    )


@pytest.mark.parametrize(
    ("language", "heading", "button"),
    [
        ("en", "Unsubscribe from the newsletter", "Unsubscribe"),
        ("ru", "Отписаться от рассылки", "Отписаться"),
    ],
)
def test_the_page_asks_before_it_unsubscribes_in_both_languages(language, heading, button):
    anna = person("anna")
    token = token_of(anna)
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    response = client.get(f"/mail/unsubscribe/{token}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert f"<h1>{heading}</h1>" in page
    assert f'<form method="post" action="/mail/unsubscribe/{token}/">' in page
    assert f'<button type="submit">{button}</button>' in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert '<meta name="robots" content="noindex, nofollow">' in page
    # A link scanner's GET changes nothing.
    assert consent_allows(subject=anna, purpose=ConsentPurpose.NEWSLETTER)


def test_the_button_unsubscribes_signed_out_and_again_changes_nothing():
    anna = person("anna")
    token = token_of(anna)
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="ru")
    response = client.post(f"/mail/unsubscribe/{token}/", {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "<h1>Вы отписались</h1>" in response.content.decode()
    assert not consent_allows(subject=anna, purpose=ConsentPurpose.NEWSLETTER)
    assert ledger(anna) == [
        (ConsentAction.GIVEN, ConsentMethod.FORM),
        (ConsentAction.WITHDRAWN, ConsentMethod.ONE_CLICK),
    ]
    assert client.post(f"/mail/unsubscribe/{token}/").status_code == 200
    assert len(ledger(anna)) == 2


@pytest.mark.parametrize(
    "token",
    [
        "f" * 64,  # well formed, nobody's
        "F" * 64,
        "not-a-token",
        "%E2%80%AE" + "a" * 60,
    ],
)
def test_an_unknown_token_is_a_404_and_changes_nothing(token):
    anna = person("anna")
    token_of(anna)
    client = Client(enforce_csrf_checks=True)
    assert client.get(f"/mail/unsubscribe/{token}/").status_code == 404
    assert client.post(f"/mail/unsubscribe/{token}/").status_code == 404
    assert ledger(anna) == [(ConsentAction.GIVEN, ConsentMethod.FORM)]


def test_other_methods_are_refused():
    token = token_of(person("anna"))
    assert Client().put(f"/mail/unsubscribe/{token}/").status_code == 405


def test_each_person_has_one_token_and_the_table_does_not_hold_it():
    anna, boris = person("anna"), person("boris")
    services.unsubscribe_tokens_ensure(user_ids=[anna.pk, boris.pk])
    services.unsubscribe_tokens_ensure(user_ids=[anna.pk])
    rows = UnsubscribeToken.objects.order_by("user_id")
    assert [row.user_id for row in rows] == [anna.pk, boris.pk]
    tokens = [unsubscribe_token(seed=row.seed) for row in rows]
    assert len(set(tokens)) == 2
    for row, token in zip(rows, tokens, strict=True):
        assert token not in (row.seed, row.token_sha256)
        assert row.token_sha256 == services.token_sha256(token)
    assert services.unsubscribe_owner(token=tokens[1]) == boris


def test_the_token_survives_a_new_secret_key(settings):
    anna = person("anna")
    token = token_of(anna)
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    assert token_of(anna) == token
    assert services.unsubscribe_owner(token=token) == anna
