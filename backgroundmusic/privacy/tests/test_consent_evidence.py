"""The evidence of every consent record, and the server's proof of a visitor's cookie choice."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from django.core import signing
from django.test import Client, RequestFactory

from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.core import clock
from backgroundmusic.mailing import services
from backgroundmusic.mailing.models import UnsubscribeToken
from backgroundmusic.privacy import consents, cookies
from backgroundmusic.privacy.kernel.pseudonyms import unsubscribe_token
from backgroundmusic.privacy.models import (
    ConsentPurpose,
    ConsentRecord,
    DocumentKind,
    PolicyEdition,
    VisitorCookieChoice,
)
from backgroundmusic.privacy.retention import retention_run

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
BANNER_WORDING = (
    "We use the cookies the site needs to work. With your consent we also use one analytics "
    "cookie to see which pages help and how long they are read. It is never shared or used for "
    "advertising."
)
PREFERENCE_WORDING = (
    "One first-party cookie (bm_aid) that lets our own statistics tell visits apart."
)
RESEARCH_WORDING = (
    "Depersonalized research and ad targeting by partners. Statistics from depersonalized data, "
    "shared in aggregate with partners for targeting advertising. Never your name, e-mail or "
    "anything that singles you out."
)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def edition() -> PolicyEdition:
    return PolicyEdition.objects.create(
        kind=DocumentKind.PRIVACY_POLICY,
        version="3.1",
        title_en="Privacy policy",
        title_ru="Политика конфиденциальности",
        body_en="text",
        body_ru="текст",
        content_hash="c" * 64,
        effective_at=T0 - timedelta(days=1),
        published_at=T0 - timedelta(days=1),
    )


def visitor() -> Client:
    return Client(HTTP_USER_AGENT=CHROME, REMOTE_ADDR="203.0.113.77")


def proofs() -> list[dict[str, object]]:
    return list(
        VisitorCookieChoice.objects.order_by("at", "pk").values(
            "choice_id",
            "analytics",
            "method",
            "edition_version",
            "edition_hash",
            "language",
            "wording",
            "wording_sha256",
            "ip_truncated",
            "browser_family",
            "at",
        )
    )


def choice_of(response) -> cookies.CookieChoice | None:
    request = RequestFactory().get("/")
    request.COOKIES["bm_consent"] = response.cookies["bm_consent"].value
    return cookies.cookie_choice(request)


@pytest.mark.parametrize(
    ("data", "analytics", "method", "wording"),
    [
        ({"action": "accept_all"}, True, "banner", BANNER_WORDING),
        ({"action": "reject_all"}, False, "banner", BANNER_WORDING),
        ({"action": "save", "analytics": "1"}, True, "preference_center", PREFERENCE_WORDING),
        ({"action": "save", "analytics": "0"}, False, "preference_center", PREFERENCE_WORDING),
    ],
)
def test_a_visitors_choice_is_proven_on_the_server_under_the_cookies_id(
    edition, data, analytics, method, wording
):
    client = visitor()
    with clock.frozen_at(T0):
        response = client.post("/cookies/choice/", {**data, "next": "/"})
    assert response.status_code == 302
    [proof] = proofs()
    assert len(str(proof["choice_id"])) == 22
    assert proof == {
        "choice_id": proof["choice_id"],
        "analytics": analytics,
        "method": method,
        "edition_version": "3.1",
        "edition_hash": "c" * 64,
        "language": "en",
        "wording": wording,
        "wording_sha256": sha(wording),
        "ip_truncated": "203.0.113.0",
        "browser_family": "Chrome 126",
        "at": T0,
    }
    assert choice_of(response) == cookies.CookieChoice(
        analytics=analytics, choice_id=str(proof["choice_id"])
    )
    assert ConsentRecord.objects.count() == 0


def test_the_wording_is_the_one_shown_in_the_language_shown(client):
    client.cookies["django_language"] = "ru"
    page = client.get("/").content.decode()
    client.post("/cookies/choice/", {"action": "reject_all"})
    proof = VisitorCookieChoice.objects.get()
    assert proof.language == "ru"
    assert proof.wording.startswith("Мы используем cookie-файлы, без которых сайт не работает.")
    assert proof.wording in page


def test_later_choices_of_one_browser_append_under_the_same_id():
    client = visitor()
    with clock.frozen_at(T0):
        client.post("/cookies/choice/", {"action": "accept_all"})
    with clock.frozen_at(T0 + timedelta(days=3)):
        response = client.post("/cookies/choice/", {"action": "save", "analytics": "0"})
    first, second = proofs()
    assert first["choice_id"] == second["choice_id"]
    assert [(p["analytics"], p["method"], p["at"]) for p in (first, second)] == [
        (True, "banner", T0),
        (False, "preference_center", T0 + timedelta(days=3)),
    ]
    assert choice_of(response) == cookies.CookieChoice(
        analytics=False, choice_id=str(first["choice_id"])
    )
    page = client.get("/cookies/").content.decode()
    assert (
        '<p id="cookie-choice-reference">We keep a record of this choice, with the text you saw, '
        f"under the reference <code>{first['choice_id']}</code>.</p>"
    ) in page


def test_a_tampered_cookie_id_is_never_written():
    genuine = cookies.signed_choice_value(analytics=False, choice_id="A" * 22)
    forged = genuine.replace("A" * 22, "B" * 22)
    client = visitor()
    client.cookies["bm_consent"] = forged
    response = client.post("/cookies/choice/", {"action": "accept_all"})
    [proof] = proofs()
    assert proof["choice_id"] not in ("A" * 22, "B" * 22)
    assert not VisitorCookieChoice.objects.filter(choice_id__in=["A" * 22, "B" * 22]).exists()
    assert choice_of(response) == cookies.CookieChoice(
        analytics=True, choice_id=str(proof["choice_id"])
    )


@pytest.mark.parametrize("choice_id", ["short", "A" * 21 + "!", "A" * 23])
def test_a_signed_cookie_with_a_malformed_id_is_refused(choice_id):
    value = signing.get_cookie_signer(salt="bm_consent" + "privacy.cookies.consent").sign(
        f"analytics:1|v:1|id:{choice_id}"
    )
    request = RequestFactory().get("/")
    request.COOKIES["bm_consent"] = value
    assert cookies.cookie_choice(request) is None


def test_an_old_cookie_without_an_id_still_counts_and_its_next_choice_gets_one():
    client = visitor()
    client.cookies["bm_consent"] = cookies.signed_choice_value(analytics=False)
    assert 'id="cookie-banner"' not in client.get("/").content.decode()
    response = client.post("/cookies/choice/", {"action": "accept_all"})
    [proof] = proofs()
    assert choice_of(response) == cookies.CookieChoice(
        analytics=True, choice_id=str(proof["choice_id"])
    )


def test_a_signed_in_choice_goes_to_the_ledger_with_its_evidence(edition):
    user = UserFactory.create()
    client = visitor()
    client.force_login(user)
    with clock.frozen_at(T0):
        response = client.post("/cookies/choice/", {"action": "reject_all"})
    assert VisitorCookieChoice.objects.count() == 0
    assert choice_of(response) == cookies.CookieChoice(analytics=False)
    with clock.frozen_at(T0 + timedelta(minutes=30)):
        consents.consent_give(subject=user, purpose=ConsentPurpose.ANALYTICS, method="form")
    with clock.frozen_at(T0 + timedelta(hours=1)):
        client.post("/cookies/choice/", {"action": "reject_all"})
    record = ConsentRecord.objects.filter(subject=user).order_by("-at", "-pk").first()
    assert record is not None
    assert (record.action, record.method, record.edition_hash) == (
        "withdrawn",
        "banner",
        "c" * 64,
    )
    assert record.evidence == {
        "made_by": "person",
        "ip": "203.0.113.0",
        "browser": "Chrome 126",
        "wording": BANNER_WORDING,
        "wording_sha256": sha(BANNER_WORDING),
        "language": "en",
        "edition_version": "3.1",
        "edition_hash": "c" * 64,
    }


def test_a_choice_in_the_privacy_center_carries_its_wording_and_origin(edition):
    user = UserFactory.create()
    client = visitor()
    client.force_login(user)
    client.post("/privacy/consents/", {"purpose": "research", "action": "give"})
    record = ConsentRecord.objects.get(subject=user)
    assert record.evidence == {
        "made_by": "person",
        "ip": "203.0.113.0",
        "browser": "Chrome 126",
        "wording": RESEARCH_WORDING,
        "wording_sha256": sha(RESEARCH_WORDING),
        "language": "en",
        "edition_version": "3.1",
        "edition_hash": "c" * 64,
    }
    page = client.get("/privacy/").content.decode()
    assert "<li>Made by you.</li>" in page
    assert "<li>From Chrome 126, network 203.0.113.0 (the address cut to its network).</li>" in page
    assert f"<li>Wording shown (English): “{RESEARCH_WORDING}”</li>" in page
    assert "<li>Privacy policy in force: edition 3.1.</li>" in page


def test_records_the_person_did_not_click_say_how_they_came_about(edition):
    user = UserFactory.create()
    consents.consent_give(subject=user, purpose=ConsentPurpose.PUBLIC_PROFILE, method="form")
    consents.consent_give(subject=user, purpose=ConsentPurpose.INDEXING, method="form")
    consents.consent_withdraw(subject=user, purpose=ConsentPurpose.PUBLIC_PROFILE, method="form")
    indexing = ConsentRecord.objects.filter(subject=user, purpose="indexing").latest("pk")
    assert indexing.evidence == {
        "made_by": "service",
        "reason": "depends_on",
        "depends_on": "public_profile",
        "edition_version": "3.1",
        "edition_hash": "c" * 64,
    }
    assert consents.evidence_described(indexing.evidence) == [
        "Made by the service: it depends on “Public profile”, which stopped.",
        "Privacy policy in force: edition 3.1.",
    ]
    gpc = consents.consent_record_gpc(
        subject=user, request=RequestFactory().get("/", HTTP_USER_AGENT=CHROME)
    )
    assert gpc.evidence == {
        "made_by": "browser_signal",
        "reason": "gpc",
        "signal": "Sec-GPC: 1",
        "ip": "127.0.0.0",
        "browser": "Chrome 126",
        "edition_version": "3.1",
        "edition_hash": "c" * 64,
    }
    assert consents.evidence_described(gpc.evidence)[0] == (
        "Made by your browser's privacy signal (Sec-GPC: 1)."
    )
    # A record written before the evidence keys says who made it by its method.
    assert consents.evidence_described({}, method="policy_change") == ["Made by the service."]
    assert consents.evidence_described({}, method="staff") == [
        "Made by our staff, on your request."
    ]
    assert consents.evidence_described({}, method="banner") == ["Made by you."]


def test_a_suspension_by_a_policy_change_names_the_edition(edition):
    user = UserFactory.create()
    consents.consent_give(subject=user, purpose=ConsentPurpose.RESEARCH, method="form")
    changed = PolicyEdition.objects.create(
        kind=DocumentKind.PRIVACY_POLICY,
        version="4.0",
        title_en="Privacy policy",
        title_ru="Политика конфиденциальности",
        body_en="new",
        body_ru="новый",
        material_purposes=["research"],
        content_hash="d" * 64,
        effective_at=T0,
        published_at=T0,
    )
    assert consents.consents_suspend_for_edition(edition=changed) == 1
    suspended = ConsentRecord.objects.get(subject=user, action="suspended")
    assert suspended.evidence == {
        "made_by": "service",
        "reason": "policy_change",
        "edition_version": "4.0",
        "edition_hash": "d" * 64,
    }
    assert consents.evidence_described(suspended.evidence) == [
        "Made by the service: edition 4.0 of the privacy policy changed the terms of this purpose.",
        "Privacy policy in force: edition 4.0.",
    ]


@pytest.mark.django_db(databases="__all__")
def test_retention_deletes_cookie_choice_proofs_past_their_period():
    period = 395 + 25 * 31
    now = clock.now()
    for age in (period + 1, period - 1):
        with clock.frozen_at(now - timedelta(days=age)):
            visitor().post("/cookies/choice/", {"action": "reject_all"})
    kept = VisitorCookieChoice.objects.order_by("at").last()
    assert kept is not None
    report = retention_run()
    assert report.destroyed["privacy.VisitorCookieChoice"] == 1
    assert list(VisitorCookieChoice.objects.values_list("pk", flat=True)) == [kept.pk]


def test_the_public_profile_form_quotes_the_label_of_each_choice(edition):
    user = UserFactory.create()
    client = visitor()
    client.force_login(user)
    response = client.post(
        "/account/profile/public/",
        {"is_published": "on", "public_fields": ["location"], "is_indexable": "on"},
    )
    assert response.status_code == 302
    wordings = {
        record.purpose: record.evidence["wording"]
        for record in ConsentRecord.objects.filter(subject=user)
    }
    assert wordings == {
        "public_profile": "Publish my profile at its public address",
        "indexing": "Let search engines index my public profile",
    }
    record = ConsentRecord.objects.get(subject=user, purpose="indexing")
    assert (record.evidence["ip"], record.evidence["browser"]) == ("203.0.113.0", "Chrome 126")


def test_an_unsubscribe_from_a_message_keeps_the_requests_origin(edition):
    user = UserFactory.create()
    consents.consent_give(subject=user, purpose=ConsentPurpose.NEWSLETTER, method="form")
    services.unsubscribe_tokens_ensure(user_ids=[user.pk])
    token = unsubscribe_token(seed=UnsubscribeToken.objects.get(user=user).seed)
    response = visitor().post(f"/mail/unsubscribe/{token}/", {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    record = ConsentRecord.objects.filter(subject=user).latest("pk")
    assert (record.action, record.method) == ("withdrawn", "one_click")
    assert record.evidence == {
        "made_by": "person",
        "ip": "203.0.113.0",
        "browser": "Chrome 126",
        "edition_version": "3.1",
        "edition_hash": "c" * 64,
    }
