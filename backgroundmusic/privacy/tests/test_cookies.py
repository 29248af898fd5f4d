"""The cookie register, the banner, the choice endpoint and what a first visit sets."""

import re
from datetime import UTC, datetime

import pytest
from django.core import signing
from django.test import Client, RequestFactory

from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.core import clock
from backgroundmusic.privacy import consents, cookies
from backgroundmusic.privacy.models import ConsentPurpose, ConsentRecord, VisitorCookieChoice

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ESSENTIAL = {"sessionid", "csrftoken", "messages", "bm_consent", "django_language"}
BANNER = 'id="cookie-banner"'
BM_AID_DELETED = (
    'Set-Cookie: bm_aid=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=Lax'
)
# Every page an anonymous visitor can reach today; each must set essential cookies only.
FIRST_VISIT_PAGES = {
    "/": {"csrftoken"},
    "/cookies/": {"csrftoken"},
    "/accounts/login/": {"csrftoken"},
    "/accounts/signup/": {"csrftoken"},
    "/accounts/password/reset/": {"csrftoken"},
    "/privacy/": set(),  # a redirect to sign in
    "/u/nobody/": {"csrftoken"},  # 404, in the site layout with its forms
    "/healthz": set(),
}


def choice_of(response) -> cookies.CookieChoice | None:
    """The choice the response stores, read back as the next request would."""
    morsel = response.cookies.get("bm_consent")
    if morsel is None:
        return None
    request = RequestFactory().get("/")
    request.COOKIES["bm_consent"] = morsel.value
    return cookies.cookie_choice(request)


def records(user=None) -> list[tuple[str, str, str]]:
    rows = ConsentRecord.objects.order_by("at", "pk")
    if user is not None:
        rows = rows.filter(subject=user)
    return [(r.purpose, r.action, r.method) for r in rows]


def test_the_register_lists_every_cookie_with_its_category_and_lifetime():
    register = {c.name: (c.category, c.max_age, c.lifetime) for c in cookies.cookie_register()}
    assert register == {
        "sessionid": ("essential", 1_209_600, "14 days"),
        "csrftoken": ("essential", 31_449_600, "364 days"),
        "messages": ("essential", None, "Until the browser is closed"),
        "bm_consent": ("essential", 34_128_000, "395 days"),
        "django_language": ("essential", None, "Until the browser is closed"),
        "bm_aid": ("analytics", 34_128_000, "395 days"),
    }
    assert cookies.cookie_names(category=cookies.CookieCategory.ESSENTIAL) == ESSENTIAL


def test_the_cookies_page_lists_every_cookie(client):
    response = client.get("/cookies/")
    assert response.status_code == 200
    page = response.content.decode()
    rows = re.findall(r'<tr id="cookie-([\w-]+)"><td><code>([\w-]+)</code></td>', page)
    assert sorted(rows) == sorted((c.name, c.name) for c in cookies.cookie_register())
    for cookie in cookies.cookie_register():
        assert str(cookie.purpose) in page.replace("&#x27;", "'").replace("&quot;", '"')
    assert "You have not chosen yet: only essential cookies are set." in page


@pytest.mark.parametrize(("path", "expected"), FIRST_VISIT_PAGES.items())
def test_a_first_visit_sets_only_essential_cookies(path, expected):
    response = Client().get(path)
    names = set(response.cookies)
    assert names == expected
    assert names <= ESSENTIAL


@pytest.mark.parametrize(
    "path",
    ["/privacy-policy/", "/privacy-policy/editions/", "/terms-of-use/", "/privacy/processing/"],
)
def test_a_first_visit_to_the_legal_pages_sets_only_essential_cookies(path):
    response = Client().get(path)
    assert response.status_code in (200, 404)
    assert set(response.cookies) <= {"csrftoken"}


def test_the_banner_shows_until_a_choice_and_not_with_do_not_track(client):
    assert BANNER in client.get("/").content.decode()
    assert BANNER in client.get("/accounts/login/").content.decode()
    assert BANNER not in client.get("/cookies/").content.decode()  # the full choice is there
    assert BANNER not in client.get("/", HTTP_DNT="1").content.decode()
    client.cookies["bm_consent"] = "tampered:value"
    assert BANNER in client.get("/").content.decode()
    client.cookies["bm_consent"] = cookies.signed_choice_value(analytics=False)
    assert BANNER not in client.get("/").content.decode()


def test_a_signed_in_person_with_a_recorded_analytics_choice_is_not_asked_again(client):
    user = UserFactory.create()
    client.force_login(user)
    assert BANNER in client.get("/").content.decode()
    consents.consent_give(subject=user, purpose=ConsentPurpose.NEWSLETTER, method="form")
    assert BANNER in client.get("/").content.decode()  # not a cookie choice
    consents.consent_withdraw(subject=user, purpose=ConsentPurpose.ANALYTICS, method="form")
    assert BANNER in client.get("/").content.decode()  # nothing was recorded: never given
    consents.consent_give(subject=user, purpose=ConsentPurpose.ANALYTICS, method="banner")
    assert BANNER not in client.get("/").content.decode()
    consents.consent_withdraw(subject=user, purpose=ConsentPurpose.ANALYTICS, method="form")
    assert BANNER not in client.get("/").content.decode()


def test_the_banner_offers_accept_reject_and_choose_each_in_one_click(client):
    page = client.get("/accounts/login/?next=/x/").content.decode()
    banner = page[page.index(BANNER) :]
    assert banner.count('action="/cookies/choice/"') == 2
    assert '<input type="hidden" name="next" value="/accounts/login/?next=/x/">' in banner
    assert '<button type="submit" name="action" value="accept_all">Accept all</button>' in banner
    assert '<button type="submit" name="action" value="reject_all">Reject all</button>' in banner
    assert '<a class="button" href="/cookies/">Choose</a>' in banner


def test_accept_all_is_one_post_and_stores_only_the_choice_for_an_anonymous_visitor(client):
    response = client.post("/cookies/choice/", {"action": "accept_all", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    proof = VisitorCookieChoice.objects.get()
    assert choice_of(response) == cookies.CookieChoice(analytics=True, choice_id=proof.choice_id)
    header = response.cookies["bm_consent"].output()
    assert re.fullmatch(
        r"Set-Cookie: bm_consent=analytics:1\|v:1\|id:[\w-]{22}:[\w-]+:[\w-]+; expires=[^;]+; "
        r"HttpOnly; "
        r"Max-Age=34128000; Path=/; SameSite=Lax",
        header,
    ), header
    assert set(response.cookies) == {"bm_consent", "messages"}
    assert ConsentRecord.objects.count() == 0
    assert BANNER not in client.get("/").content.decode()


def test_reject_all_is_one_post_and_deletes_the_analytics_cookie(client):
    client.cookies["bm_aid"] = "a-random-id"
    response = client.post("/cookies/choice/", {"action": "reject_all", "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    proof = VisitorCookieChoice.objects.get()
    assert choice_of(response) == cookies.CookieChoice(analytics=False, choice_id=proof.choice_id)
    assert response.cookies["bm_aid"].output() == BM_AID_DELETED
    assert ConsentRecord.objects.count() == 0


def test_the_consent_cookie_is_secure_over_https(client, settings):
    settings.HTTPS = True
    response = client.post("/cookies/choice/", {"action": "reject_all"})
    assert "; Secure" in response.cookies["bm_consent"].output()


def test_a_signed_in_choice_is_also_recorded_in_the_ledger(client):
    user = UserFactory.create()
    client.force_login(user)
    with clock.frozen_at(T0):
        client.post("/cookies/choice/", {"action": "accept_all", "next": "/"})
    assert records(user) == [("analytics", "given", "banner")]
    response = client.post("/cookies/choice/", {"action": "save", "analytics": "0"})
    assert response.status_code == 302
    assert response["Location"] == "/cookies/"
    assert response.cookies["bm_aid"].output() == BM_AID_DELETED
    assert choice_of(response) == cookies.CookieChoice(analytics=False)
    assert records(user) == [
        ("analytics", "given", "banner"),
        ("analytics", "withdrawn", "preference_center"),
    ]


@pytest.mark.parametrize(
    "caller", ["support", "content_manager", "privacy_officer", "administrator"]
)
def test_staff_cookie_choices_are_their_own(client, caller, caller_for):
    owner = UserFactory.create()
    member = caller_for(caller).user
    client.post("/cookies/choice/", {"action": "accept_all"})
    assert records(member) == [("analytics", "given", "banner")]
    assert records(owner) == []


def test_saving_from_the_cookies_page_keeps_analytics_on_or_off(client):
    response = client.post(
        "/cookies/choice/", {"action": "save", "analytics": "1", "next": "/cookies/"}
    )
    assert choice_of(response) == cookies.CookieChoice(
        analytics=True, choice_id=VisitorCookieChoice.objects.get().choice_id
    )
    assert "bm_aid" not in response.cookies
    page = client.get("/cookies/").content.decode()
    assert "You allowed analytics cookies." in page
    assert '<input type="radio" name="analytics" value="1" id="id_analytics_0" checked>' in page


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"action": "save"}, "Choose whether to allow analytics cookies."),
        ({"action": "save", "analytics": "maybe"}, "Choose whether to allow analytics cookies."),
        ({"action": "accept_everything"}, "Choose one of the buttons."),
        ({}, "This field is required."),
    ],
)
def test_a_malformed_choice_is_refused_and_nothing_is_stored(client, data, error):
    user = UserFactory.create()
    client.force_login(user)
    response = client.post("/cookies/choice/", data)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert "bm_consent" not in response.cookies
    assert ConsentRecord.objects.count() == 0


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "javascript:alert(1)", ""]
)
def test_an_unsafe_next_falls_back_to_the_cookies_page(client, target):
    response = client.post("/cookies/choice/", {"action": "reject_all", "next": target})
    assert response["Location"] == "/cookies/"


def test_the_choice_endpoint_takes_posts_only(client):
    assert client.get("/cookies/choice/").status_code == 405


def test_visitor_allows_analytics_only_with_the_cookie_and_without_dnt():
    factory = RequestFactory()

    def allows(purpose, cookie=None, **headers):
        request = factory.get("/", **headers)
        if cookie is not None:
            request.COOKIES["bm_consent"] = cookie
        from django.contrib.auth.models import AnonymousUser

        request.user = AnonymousUser()
        return consents.visitor_allows(request=request, purpose=purpose)

    accepted = cookies.signed_choice_value(analytics=True)
    rejected = cookies.signed_choice_value(analytics=False)
    assert allows(ConsentPurpose.ANALYTICS) is False
    assert allows(ConsentPurpose.ANALYTICS, accepted) is True
    assert allows(ConsentPurpose.ANALYTICS, rejected) is False
    assert allows(ConsentPurpose.ANALYTICS, accepted, HTTP_DNT="1") is False
    assert allows(ConsentPurpose.RESEARCH, accepted) is False
    assert allows(ConsentPurpose.NEWSLETTER, accepted) is False
    stale = signing.get_cookie_signer(salt="bm_consent" + "privacy.cookies.consent").sign(
        "analytics:1|v:0"
    )
    assert allows(ConsentPurpose.ANALYTICS, stale) is False


def test_visitor_allows_for_a_signed_in_person_needs_the_ledger_and_no_refusal_here():
    user = UserFactory.create()
    factory = RequestFactory()

    def allows(cookie=None):
        request = factory.get("/")
        request.user = user
        if cookie is not None:
            request.COOKIES["bm_consent"] = cookie
        return consents.visitor_allows(request=request, purpose=ConsentPurpose.ANALYTICS)

    accepted = cookies.signed_choice_value(analytics=True)
    assert allows(accepted) is False  # accepted in this browser, but no recorded consent
    consents.consent_give(subject=user, purpose=ConsentPurpose.ANALYTICS, method="banner")
    assert allows() is True
    assert allows(accepted) is True
    assert allows(cookies.signed_choice_value(analytics=False)) is False


def test_the_footer_links_to_the_cookies_page(client):
    page = client.get("/").content.decode()
    footer = page[page.index('<footer class="site-footer">') : page.index("</footer>")]
    assert '<a href="/cookies/">Cookies</a>' in footer
