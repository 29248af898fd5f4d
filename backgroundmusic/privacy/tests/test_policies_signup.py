"""Sign-up accepts the user agreement and acknowledges the privacy policy in one required box,
separate from every consent (privacy.forms.SignupAgreementForm → policies)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.cache import cache

from backgroundmusic.accounts.models import User
from backgroundmusic.core import clock
from backgroundmusic.privacy import policies
from backgroundmusic.privacy.kernel.pseudonyms import subject_pseudonym
from backgroundmusic.privacy.models import ConsentRecord, DocumentKind, PolicyAcceptance

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASSWORD = "a-long-password-1"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
SIGN_UP = {
    "username": "newcomer",
    "email": "newcomer.policies@example.com",
    "password1": PASSWORD,
    "password2": PASSWORD,
    "agreement": "on",
}


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """allauth counts sign-ups and confirmation mails per address and IP in the cache, which
    outlives a test; start and leave it empty so no other test is limited by these sign-ups."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def editions():
    with clock.frozen_at(T0):
        common: dict[str, Any] = {
            "actor": None,
            "change_summary_en": "",
            "change_summary_ru": "",
            "effective_at": None,
            "material_purposes": [],
        }
        policy = policies.edition_publish(
            kind=DocumentKind.PRIVACY_POLICY,
            version="p1",
            title_en="Privacy policy",
            title_ru="Политика конфиденциальности",
            body_en="Policy.",
            body_ru="Политика.",
            **common,
        )
        terms = policies.edition_publish(
            kind=DocumentKind.TERMS_OF_USE,
            version="t1",
            title_en="User agreement",
            title_ru="Пользовательское соглашение",
            body_en="Terms.",
            body_ru="Условия.",
            **common,
        )
    return policy, terms


def test_the_sign_up_form_has_the_required_box_with_links_to_both_documents(client, editions):
    html = client.get("/accounts/signup/").content.decode()
    assert '<input type="checkbox" name="agreement" required id="id_agreement">' in html
    assert (
        '<label for="id_agreement">I accept the <a href="/terms-of-use/" target="_blank" '
        'rel="noopener">user agreement</a> and have read the <a href="/privacy-policy/" '
        'target="_blank" rel="noopener">privacy policy</a>:</label>' in html
    )
    # After the password fields, before the button.
    assert html.index('id="id_password2"') < html.index('id="id_agreement"')


def test_sign_up_records_acceptance_and_acknowledgement_with_truncated_origin(client, editions):
    policy, terms = editions
    moment = T0 + timedelta(days=3)
    with clock.frozen_at(moment):
        response = client.post(
            "/accounts/signup/", SIGN_UP, REMOTE_ADDR="203.0.113.77", HTTP_USER_AGENT=FIREFOX
        )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    user = User.objects.get(username="newcomer")
    rows = PolicyAcceptance.objects.filter(user=user).order_by("edition__kind")
    assert [
        (
            r.edition_id,
            r.edition_hash,
            r.action,
            r.at,
            r.ip_truncated,
            r.user_agent_family,
            r.subject_pseudonym,
        )
        for r in rows
    ] == [
        (
            policy.pk,
            policy.content_hash,
            "acknowledged",
            moment,
            "203.0.113.0",
            "Firefox 140",
            subject_pseudonym(subject_id=user.pk),
        ),
        (
            terms.pk,
            terms.content_hash,
            "accepted",
            moment,
            "203.0.113.0",
            "Firefox 140",
            subject_pseudonym(subject_id=user.pk),
        ),
    ]
    # The box is no consent: nothing is written to the consent ledger.
    assert ConsentRecord.objects.count() == 0
    with clock.frozen_at(moment):
        assert policies.pending_acknowledgement(user=user) is None


def test_sign_up_without_the_box_creates_nothing_and_keeps_the_input(client, editions):
    response = client.post("/accounts/signup/", {**SIGN_UP, "agreement": ""})
    html = response.content.decode()
    assert response.status_code == 200
    assert (
        "To create an account, accept the user agreement and confirm that you have read the "
        "privacy policy." in html
    )
    assert 'value="newcomer"' in html and 'value="newcomer.policies@example.com"' in html
    assert not User.objects.filter(username="newcomer").exists()
    assert PolicyAcceptance.objects.count() == 0


def test_sign_up_still_works_on_a_fresh_database_and_records_nothing(client):
    response = client.post("/accounts/signup/", SIGN_UP, REMOTE_ADDR="203.0.113.77")
    assert response.status_code == 302
    assert User.objects.filter(username="newcomer").exists()
    assert PolicyAcceptance.objects.count() == 0
    # The box still links to the documents' addresses; they answer 404 until published.
    assert client.get("/terms-of-use/").status_code == 404


def test_a_taken_address_signs_up_nobody_and_records_nothing(client, editions):
    client.post("/accounts/signup/", SIGN_UP)
    client.post("/accounts/signup/", {**SIGN_UP, "username": "someone"})
    assert list(User.objects.values_list("username", flat=True)) == ["newcomer"]
    assert PolicyAcceptance.objects.count() == 2
