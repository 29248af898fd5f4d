"""Policy pages, the notice of a new edition, and staff publishing (views/policies.py)."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.core import clock
from backgroundmusic.privacy import consents, policies
from backgroundmusic.privacy.editions import current_edition, edition_hash_matches
from backgroundmusic.privacy.models import (
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    DocumentKind,
    PolicyAcceptance,
    PolicyEdition,
)
from backgroundmusic.privacy.policies_context import policy_notice
from tests.callers import CALLERS, STAFF_WITHOUT_TWO_FACTOR, expected_by_caller

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PP = DocumentKind.PRIVACY_POLICY
TERMS = DocumentKind.TERMS_OF_USE
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"


@pytest.fixture(autouse=True)
def frozen():
    """Every request of these tests happens a day after T0 unless a test moves the clock."""
    with clock.frozen_at(T0 + timedelta(days=1)):
        yield


def publish(*, at: datetime = T0, **overrides: Any) -> PolicyEdition:
    data: dict[str, Any] = {
        "actor": None,
        "kind": PP,
        "version": "v1",
        "title_en": "Privacy policy",
        "title_ru": "Политика конфиденциальности",
        "body_en": "## Who we are\n\nEnglish body of v1.",
        "body_ru": "## Кто мы\n\nРусский текст v1.",
        "change_summary_en": "",
        "change_summary_ru": "",
        "effective_at": None,
        "material_purposes": [],
    }
    data.update(overrides)
    with clock.frozen_at(at):
        return policies.edition_publish(**data)


def publish_v2(**overrides: Any) -> PolicyEdition:
    data: dict[str, Any] = {
        "at": T0 + timedelta(hours=12),
        "version": "v2",
        "body_en": "## Who we are\n\nEnglish body of v2.",
        "body_ru": "## Кто мы\n\nРусский текст v2.",
        "change_summary_en": "Retention periods are now stated for every kind of data.",
        "change_summary_ru": "Теперь указаны сроки хранения для каждого вида данных.",
    }
    data.update(overrides)
    return publish(**data)


def terms(**overrides: Any) -> PolicyEdition:
    data: dict[str, Any] = {
        "kind": TERMS,
        "version": "t1",
        "title_en": "User agreement",
        "title_ru": "Пользовательское соглашение",
        "body_en": "## Parties\n\nEnglish terms.",
        "body_ru": "## Стороны\n\nРусские условия.",
    }
    data.update(overrides)
    return publish(**data)


def notice_of(html: str) -> tuple[str, str] | None:
    found = re.search(
        r'<aside id="policy-notice"[^>]*data-kind="(\w+)" data-version="([\w.-]+)"', html
    )
    return (found.group(1), found.group(2)) if found else None


@pytest.mark.parametrize(
    "path", ["/privacy-policy/", "/terms-of-use/", "/privacy-policy/editions/v1/"]
)
def test_documents_answer_404_before_anything_is_published(client, path):
    assert client.get(path).status_code == 404


def test_the_privacy_policy_page_shows_the_edition_in_force(client):
    edition = publish()
    response = client.get("/privacy-policy/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Privacy policy</h1>" in html
    assert '<h2 id="who-we-are">Who we are</h2>' in html
    assert "English body of v1." in html and "Русский текст" not in html
    assert "Version v1" in html
    assert '<time datetime="2026-03-02T09:00:00+00:00">March 2, 2026</time>' in html
    assert '<a href="/privacy-policy/editions/">All editions</a>' in html
    assert edition.content_hash in html
    assert 'data-status="current"' in html


def test_the_document_is_shown_in_russian_for_russian_readers(client):
    publish()
    html = client.get("/privacy-policy/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "<h1>Политика конфиденциальности</h1>" in html
    assert '<h2 id="кто-мы">Кто мы</h2>' in html
    assert "Русский текст v1." in html and "English body" not in html


def test_the_terms_page_shows_the_user_agreement(client):
    publish()
    terms()
    html = client.get("/terms-of-use/").content.decode()
    assert "<h1>User agreement</h1>" in html and "English terms." in html
    assert '<a href="/terms-of-use/editions/">All editions</a>' in html


def test_every_edition_keeps_its_address_after_a_newer_one(client):
    v1 = publish()
    v2 = publish_v2()
    current = client.get("/privacy-policy/").content.decode()
    assert "English body of v2." in current
    old = client.get("/privacy-policy/editions/v1/")
    assert old.status_code == 200
    html = old.content.decode()
    assert "English body of v1." in html and 'data-status="superseded"' in html
    assert "This is an earlier edition, kept for the record" in html
    assert v1.content_hash in html
    assert client.get("/privacy-policy/editions/v2/").status_code == 200
    assert v2.content_hash in client.get("/privacy-policy/editions/v2/").content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/privacy-policy/editions/v3/",
        "/privacy-policy/editions/t1/",  # a version of the user agreement, not of the policy
        "/terms-of-use/editions/v1/",
        "/privacy-policy/editions/%3Cscript%3E/",
    ],
)
def test_unknown_editions_answer_404(client, path):
    publish()
    terms()
    assert client.get(path).status_code == 404


def test_an_edition_published_in_advance_is_public_but_not_in_force(client):
    publish()
    publish_v2(effective_at=T0 + timedelta(days=10))
    assert "English body of v1." in client.get("/privacy-policy/").content.decode()
    upcoming = client.get("/privacy-policy/editions/v2/").content.decode()
    assert 'data-status="upcoming"' in upcoming
    assert "This edition is published in advance and takes effect on March 12, 2026." in upcoming
    with clock.frozen_at(T0 + timedelta(days=10)):
        assert "English body of v2." in client.get("/privacy-policy/").content.decode()


def test_the_editions_list_shows_every_edition_newest_first(client):
    publish()
    publish_v2(effective_at=T0 + timedelta(days=10))
    response = client.get("/privacy-policy/editions/")
    html = response.content.decode()
    assert response.status_code == 200
    assert re.findall(r'<tr data-version="([\w.-]+)" data-status="(\w+)">', html) == [
        ("v2", "upcoming"),
        ("v1", "current"),
    ]
    assert '<a href="/privacy-policy/editions/v1/">Privacy policy, v1</a>' in html
    assert "Retention periods are now stated for every kind of data." in html
    assert client.get("/terms-of-use/editions/").status_code == 200


def test_unsafe_markup_in_an_edition_never_reaches_the_page(client):
    publish(body_en='Hello <script>alert("x")</script> [click](javascript:alert(1))')
    html = client.get("/privacy-policy/").content.decode()
    assert 'alert("x")' not in html and "javascript:" not in html


def test_every_page_links_the_policy_and_the_agreement_in_the_footer(client):
    html = client.get("/").content.decode()
    footer = html[html.index('<footer class="site-footer">') :]
    assert '<a href="/privacy-policy/">Privacy policy</a>' in footer
    assert '<a href="/terms-of-use/">User agreement</a>' in footer


def test_the_notice_appears_on_the_next_page_and_goes_away_once_read(client):
    person = UserFactory.create()
    v1 = publish()
    policies.edition_acknowledge(
        user=person, edition=v1, request_ip_truncated="", user_agent_family=""
    )
    client.force_login(person)
    assert notice_of(client.get("/").content.decode()) is None

    v2 = publish_v2()
    html = client.get("/account/profile/").content.decode()
    assert notice_of(html) == ("privacy_policy", "v2")
    assert "A new edition of the privacy policy" in html
    assert "Retention periods are now stated for every kind of data." in html
    assert '<a href="/privacy-policy/editions/v2/">Read the new edition</a>' in html
    assert f'<input type="hidden" name="edition" value="{v2.pk}">' in html

    response = client.post(
        "/privacy-policy/acknowledge/",
        {"edition": v2.pk, "next": "/account/profile/"},
        REMOTE_ADDR="203.0.113.77",
        HTTP_USER_AGENT=FIREFOX,
    )
    assert response.status_code == 302
    assert response["Location"] == "/account/profile/"
    record = PolicyAcceptance.objects.get(user=person, edition=v2)
    assert (record.action, record.ip_truncated, record.user_agent_family) == (
        "acknowledged",
        "203.0.113.0",
        "Firefox 140",
    )
    assert (record.edition_hash, record.at) == (v2.content_hash, T0 + timedelta(days=1))
    after = client.get("/account/profile/").content.decode()
    assert notice_of(after) is None
    assert "we have recorded that you read version v2 of the privacy policy" in after


def test_a_new_user_agreement_is_accepted_from_the_notice(client):
    person = UserFactory.create()
    publish()
    t1 = terms()
    PolicyAcceptance.objects.create(
        user=person,
        subject_pseudonym="x",
        edition=PolicyEdition.objects.get(version="v1"),
        edition_hash="x",
        action="acknowledged",
        at=T0,
    )
    client.force_login(person)
    html = client.get("/").content.decode()
    assert notice_of(html) == ("terms_of_use", "t1")
    # The person never accepted an edition of the agreement: this one is not "new" to them.
    assert "A new edition" not in html
    assert '<h2 id="policy-notice-title">Please read and accept the user agreement</h2>' in html
    assert '<a href="/terms-of-use/editions/t1/">Read the user agreement</a>' in html
    assert "I have read it and accept it" in html
    client.post("/privacy-policy/acknowledge/", {"edition": t1.pk, "next": "/"})
    assert list(PolicyAcceptance.objects.filter(edition=t1).values_list("user", "action")) == [
        (person.pk, "accepted")
    ]
    assert notice_of(client.get("/").content.decode()) is None


def test_an_account_that_read_no_edition_is_asked_to_read_the_policy_not_told_it_is_new(client):
    # A staff member seeded by a command, say: the policy in force since before their account
    # is simply unread, and what changed since an edition they never saw means nothing to them.
    person = UserFactory.create()
    publish()
    v2 = publish_v2()
    client.force_login(person)
    html = client.get("/").content.decode()
    assert notice_of(html) == ("privacy_policy", "v2")
    assert '<h2 id="policy-notice-title">Please read the privacy policy</h2>' in html
    assert "A new edition" not in html and "What changed:" not in html
    assert "Retention periods are now stated for every kind of data." not in html
    assert f'<a href="/privacy-policy/editions/{v2.version}/">Read the privacy policy</a>' in html
    russian = client.get("/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Прочитайте Политику конфиденциальности" in russian


def test_the_notice_names_the_consents_a_material_change_paused(client):
    person = UserFactory.create()
    v1 = publish()
    policies.edition_acknowledge(
        user=person, edition=v1, request_ip_truncated="", user_agent_family=""
    )
    consents.consent_give(
        subject=person, purpose=ConsentPurpose.ANALYTICS, method=ConsentMethod.BANNER
    )
    publish_v2(material_purposes=["analytics", "newsletter"])
    client.force_login(person)
    html = client.get("/").content.decode()
    paused = re.search(r'<ul class="policy-notice-paused">(.*?)</ul>', html, re.S)
    assert paused is not None
    assert re.findall(r"<li>(.*?)</li>", paused.group(1)) == ["Identified analytics cookies"]
    assert '<a href="/privacy/#consents">Give them again in the privacy center</a>' in html


def test_the_notice_says_when_a_material_change_paused_nothing_of_yours(client):
    person = UserFactory.create()
    publish_v1_and_v2_with_material_newsletter = publish()
    policies.edition_acknowledge(
        user=person,
        edition=publish_v1_and_v2_with_material_newsletter,
        request_ip_truncated="",
        user_agent_family="",
    )
    publish_v2(material_purposes=["newsletter"])
    client.force_login(person)
    html = client.get("/").content.decode()
    assert (
        "This edition changes what these consents cover: Newsletters and promotional e-mail."
        in html
    )
    assert "None of your consents was paused by it." in html
    assert "policy-notice-paused" not in html


def test_visitors_never_see_the_notice(client):
    publish()
    assert notice_of(client.get("/").content.decode()) is None


def test_the_notice_costs_one_query_when_signed_in_and_none_for_visitors(
    django_assert_num_queries,
):
    person = UserFactory.create()
    publish()
    request = RequestFactory().get("/")
    request.user = person
    lazy = policy_notice(request)["policy_notice"]
    with django_assert_num_queries(1):
        notice = lazy()
        assert lazy() is notice  # looked up once per request
    assert notice is not None and notice.edition.version == "v1"
    visitor = RequestFactory().get("/")
    visitor.user = AnonymousUser()
    with django_assert_num_queries(0):
        assert policy_notice(visitor)["policy_notice"]() is None


# The acknowledge endpoint: callers and bad input


def test_anonymous_acknowledgement_goes_to_sign_in_and_records_nothing(client):
    v1 = publish()
    response = client.post("/privacy-policy/acknowledge/", {"edition": v1.pk})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/privacy-policy/acknowledge/"
    assert PolicyAcceptance.objects.count() == 0


def test_acknowledging_records_only_for_the_signed_in_person(client):
    owner, other = UserFactory.create(), UserFactory.create()
    v1 = publish()
    client.force_login(other)
    client.post("/privacy-policy/acknowledge/", {"edition": v1.pk, "next": "/"})
    assert list(PolicyAcceptance.objects.values_list("user", flat=True)) == [other.pk]
    assert policies.pending_acknowledgement(user=owner) == v1


@pytest.mark.parametrize(
    "post, message",
    [
        ({}, "Nothing was recorded: the form was incomplete. Please try again."),
        ({"edition": "abc"}, "Nothing was recorded: the form was incomplete. Please try again."),
        (
            {"edition": "99999999999999999999999"},
            "Nothing was recorded: the form was incomplete. Please try again.",
        ),
        ({"edition": "424242"}, "Nothing was recorded: there is no such published edition."),
        (
            {"edition": "OLD"},
            "This edition of the privacy policy is not the one in force now; read the current "
            "edition instead.",
        ),
    ],
)
def test_bad_acknowledgements_record_nothing_and_say_why(client, post, message):
    person = UserFactory.create()
    v1 = publish()
    publish_v2()
    if post.get("edition") == "OLD":
        post = {"edition": v1.pk}
    client.force_login(person)
    response = client.post(
        "/privacy-policy/acknowledge/", {**post, "next": "https://evil.example/"}, follow=True
    )
    assert response.status_code == 200
    assert response.redirect_chain == [("/", 302)]
    assert message in response.content.decode()
    assert PolicyAcceptance.objects.count() == 0


def test_acknowledge_accepts_only_post(client):
    client.force_login(UserFactory.create())
    assert client.get("/privacy-policy/acknowledge/").status_code == 405


# Staff publishing: every caller kind

STAFF_URL = "/staff/policies/"
EXPECTED = expected_by_caller(
    {"privacy_officer"},
    allowed_outcome=200,
    refused_outcome=403,
    kinds=(*CALLERS, STAFF_WITHOUT_TWO_FACTOR),
    anonymous=302,
    staff_without_two_factor=302,
)


def publish_post(**overrides: str | list[str]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "action": "publish",
        "kind": "privacy_policy",
        "version": "2026-04-01",
        "effective_at": "2026-04-01T00:00",
        "title_en": "Privacy policy",
        "title_ru": "Политика конфиденциальности",
        "body_en": "## Who we are\r\n\r\nThe new English text.",
        "body_ru": "## Кто мы\r\n\r\nНовый русский текст.",
        "change_summary_en": "Research consent added.",
        "change_summary_ru": "Добавлено согласие на исследования.",
        "material_purposes": ["analytics"],
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("caller", EXPECTED)
def test_staff_policies_page_access(client, caller, caller_for):
    publish()
    response = caller_for(caller).client.get(STAFF_URL)
    assert response.status_code == EXPECTED[caller]
    if caller == "anonymous":
        assert response["Location"] == "/accounts/login/?next=/staff/policies/"
    if caller == "staff_without_two_factor":
        assert response["Location"] == "/accounts/2fa/totp/activate/"
    if response.status_code == 200:
        html = response.content.decode()
        assert '<tr data-version="v1">' in html
        assert '<a href="/staff/policies/" aria-current="page">Policies</a>' in html
        # Published by no staff member: installed with the service, said in the reader's words.
        assert "(at installation)</td>" in html
        assert "seeded" not in html


@pytest.mark.parametrize("caller", EXPECTED)
def test_only_the_privacy_officer_can_publish(client, caller, caller_for):
    v1 = publish()
    response = caller_for(caller).client.post(STAFF_URL, publish_post())
    allowed = caller == "privacy_officer"
    assert response.status_code == (302 if allowed else EXPECTED[caller])
    editions = list(PolicyEdition.objects.order_by("pk").values_list("version", flat=True))
    assert editions == (["v1", "2026-04-01"] if allowed else ["v1"])
    if allowed:
        assert response["Location"] == "/staff/policies/#editions"
        new = PolicyEdition.objects.get(version="2026-04-01")
        officer = User.objects.get(username="privacy-officer")
        assert (new.published_by_id, new.published_at, new.effective_at) == (
            officer.pk,
            T0 + timedelta(days=1),
            datetime(2026, 4, 1, tzinfo=UTC),
        )
        assert new.body_en == "## Who we are\n\nThe new English text."
        assert new.material_purposes == ["analytics"]
        assert edition_hash_matches(edition=new)
    assert current_edition(kind=PP) == v1


def test_the_staff_nav_shows_policies_only_to_those_who_may_publish(client, caller_for):
    caller_for("support")
    html = client.get("/staff/").content.decode()
    assert "/staff/policies/" not in html


def test_preview_renders_both_languages_and_publishes_nothing(client, caller_for):
    caller_for("privacy_officer")
    response = client.post(STAFF_URL, publish_post(action="preview"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<div class="policy-body" lang="en"><h2 id="who-we-are">Who we are</h2>' in html
    assert '<div class="policy-body" lang="ru"><h2 id="кто-мы">Кто мы</h2>' in html
    assert "Consents that will be paused:</strong> Identified analytics cookies" in html
    assert PolicyEdition.objects.count() == 0
    # The input is kept for the next step.
    assert 'value="2026-04-01"' in html


def test_a_refused_publication_keeps_the_input_and_says_why(client, caller_for):
    publish()
    caller_for("privacy_officer")
    response = client.post(STAFF_URL, publish_post(version="v1"))
    html = response.content.decode()
    assert response.status_code == 200
    assert (
        "Version v1 of the privacy policy is already published, and a published edition can "
        "never be changed. Publish the change as a new version." in html
    )
    assert "The new English text." in html
    assert PolicyEdition.objects.count() == 1


def test_an_effective_date_in_the_past_is_refused(client, caller_for):
    caller_for("privacy_officer")
    response = client.post(STAFF_URL, publish_post(effective_at="2026-03-01T00:00"))
    assert (
        "The effective date is in the past: an edition can take effect now or later."
        in response.content.decode()
    )
    assert PolicyEdition.objects.count() == 0


@pytest.mark.parametrize(
    "overrides",
    [
        {"kind": "cookie_policy"},
        {"effective_at": "tomorrow"},
        {"material_purposes": ["tracking"]},
        {"body_en": ""},
        {"version": "x" * 40},
    ],
)
def test_malformed_publications_are_refused_without_an_error_page(client, overrides, caller_for):
    caller_for("privacy_officer")
    response = client.post(STAFF_URL, publish_post(**overrides))
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    assert PolicyEdition.objects.count() == 0


def test_a_new_edition_can_start_from_the_text_in_force(client, caller_for):
    publish(body_en="## Who we are\n\nStart from me.")
    caller_for("privacy_officer")
    html = client.get(STAFF_URL, {"start": "privacy_policy"}).content.decode()
    assert "Start from me." in html
    assert client.get(STAFF_URL, {"start": "nonsense"}).status_code == 200


def test_publishing_with_no_effective_date_takes_effect_at_once_and_shows_the_notice(
    client, caller_for
):
    person = UserFactory.create()
    v1 = publish()
    policies.edition_acknowledge(
        user=person, edition=v1, request_ip_truncated="", user_agent_family=""
    )
    officer = caller_for("privacy_officer").client
    officer.post(STAFF_URL, publish_post(effective_at="", material_purposes=[]))
    new = PolicyEdition.objects.get(version="2026-04-01")
    assert new.effective_at == T0 + timedelta(days=1)
    client.force_login(person)
    assert notice_of(client.get("/").content.decode()) == ("privacy_policy", "2026-04-01")
    assert ConsentRecord.objects.count() == 0
