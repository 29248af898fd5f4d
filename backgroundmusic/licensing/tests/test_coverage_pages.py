"""The coverage page, its forms and the letter through the test client: who may open and post
what (every caller kind), forms that keep what was typed with the specific error, both
languages."""

import html
from datetime import UTC, date, datetime

import pytest

from backgroundmusic.catalog.tests.fixtures import ready_track
from backgroundmusic.core import clock
from backgroundmusic.core.tests.pdf import pdf_text
from backgroundmusic.licensing import coverage
from backgroundmusic.licensing.models import Agreement, CoveredChannel, CoveredUse, PlanKind, Use
from backgroundmusic.licensing.tests.coverage_scenes import licence, moved
from tests.callers import CALLERS

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
PAGE = "/licences/BM-2026-000042/coverage/"
LETTER = "/licences/BM-2026-000042/letter.pdf"


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
def subscription(owner) -> Agreement:
    return licence(user=owner)


@pytest.fixture
def registered(subscription, owner) -> tuple[CoveredChannel, CoveredUse]:
    channel = coverage.channel_add(
        user=owner, agreement=subscription, platform="", url="https://t.me/mine"
    )
    use = coverage.use_add(
        user=owner,
        agreement=subscription,
        platform="",
        url="https://youtu.be/first",
        published_on=date(2026, 3, 5),
        title="First video",
        track=None,
    )
    return channel, use


def expected_status(kind: str, owner_status: int) -> int:
    """Anyone but the licensee finds nothing; an anonymous visitor is sent to sign in."""
    return {"anonymous": 302, "owner": owner_status}.get(kind, 404)


def assert_sent_to_sign_in(response, path: str) -> None:
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


@pytest.mark.parametrize("kind", CALLERS)
def test_the_page_and_the_letter_open_for_the_licensee_only(caller_for, kind, registered):
    client = caller_for(kind).client
    for path, owner_type in ((PAGE, "text/html; charset=utf-8"), (LETTER, "application/pdf")):
        response = client.get(path)
        assert response.status_code == expected_status(kind, 200)
        if kind == "anonymous":
            assert_sent_to_sign_in(response, path)
        if kind == "owner":
            assert response["Content-Type"] == owner_type
            assert "no-cache" in response["Cache-Control"]


POSTS = {
    "channel_add": (
        "/licences/BM-2026-000042/coverage/channels/",
        {"channel-platform": "", "channel-url": "https://t.me/second"},
    ),
    "use_add": (
        "/licences/BM-2026-000042/coverage/uses/",
        {
            "use-platform": "",
            "use-url": "https://youtu.be/second",
            "use-published_on": "2026-03-06",
            "use-title": "",
            "use-track": "",
        },
    ),
}


def holdings() -> tuple[list[str], list[str]]:
    return (
        sorted(CoveredChannel.objects.values_list("url", flat=True)),
        sorted(CoveredUse.objects.values_list("url", flat=True)),
    )


@pytest.mark.parametrize("action", sorted(POSTS))
@pytest.mark.parametrize("kind", CALLERS)
def test_only_the_licensee_registers(caller_for, kind, action, registered):
    path, data = POSTS[action]
    before = holdings()
    response = caller_for(kind).client.post(path, data)
    assert response.status_code == expected_status(kind, 302)
    if kind == "owner":
        assert response["Location"] == PAGE
        added = data.get("channel-url") or data["use-url"]
        assert added in holdings()[0] + holdings()[1]
    else:
        assert holdings() == before
    if kind == "anonymous":
        assert_sent_to_sign_in(response, path)


@pytest.mark.parametrize("what", ["channels", "uses"])
@pytest.mark.parametrize("kind", CALLERS)
def test_only_the_licensee_removes(caller_for, kind, what, registered):
    channel, use = registered
    row_id = channel.pk if what == "channels" else use.pk
    path = f"/licences/BM-2026-000042/coverage/{what}/{row_id}/remove/"
    response = caller_for(kind).client.post(path)
    assert response.status_code == expected_status(kind, 302)
    expected = (
        ([], ["https://youtu.be/first"])
        if kind == "owner" and what == "channels"
        else (["https://t.me/mine"], [])
        if kind == "owner"
        else (["https://t.me/mine"], ["https://youtu.be/first"])
    )
    assert holdings() == expected


def test_pages_answer_get_or_post_only(client, owner, registered):
    client.force_login(owner)
    assert client.post(PAGE).status_code == 405
    assert client.post(LETTER).status_code == 405
    assert client.get(POSTS["channel_add"][0]).status_code == 405
    channel, _use = registered
    assert client.get(f"{PAGE}channels/{channel.pk}/remove/").status_code == 405


def test_a_row_of_another_licence_is_not_removed_through_this_one(client, owner, registered):
    other = licence(user=owner, number="BM-2026-000043")
    use = coverage.use_add(
        user=owner,
        agreement=other,
        platform="",
        url="https://youtu.be/other",
        published_on=date(2026, 3, 5),
        title="",
        track=None,
    )
    client.force_login(owner)
    assert client.post(f"{PAGE}uses/{use.pk}/remove/").status_code == 404
    assert client.post(f"{PAGE}uses/999999/remove/").status_code == 404
    assert CoveredUse.objects.filter(pk=use.pk).exists()


def test_the_page_lists_what_is_registered_and_says_where_the_licence_stands(
    client, owner, registered
):
    client.force_login(owner)
    page = client.get(PAGE).content.decode()
    assert '<dd id="coverage-status">In force, paid through 1 April 2026.</dd>' in page
    assert '<dd id="coverage-stretches">1 March 2026 – 1 April 2026</dd>' in page
    assert (
        '<a class="coverage-url" href="https://t.me/mine" rel="nofollow noopener noreferrer">'
        "https://t.me/mine</a>" in page
    )
    assert '<span class="coverage-title">First video</span>' in page
    assert 'href="/licences/BM-2026-000042/letter.pdf?language=en" hx-boost="false"' in page
    assert 'href="/licences/BM-2026-000042/letter.pdf?language=ru" hx-boost="false"' in page
    assert page.count('action="/licences/BM-2026-000042/coverage/') == 4


def test_a_form_with_an_error_keeps_what_was_typed_and_says_what_is_wrong(
    client, owner, subscription
):
    client.force_login(owner)
    response = client.post(
        POSTS["channel_add"][0],
        {"channel-platform": "vk", "channel-url": "https://youtu.be/<mine>"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        html.escape("This link is on YouTube: choose YouTube, or let the platform be detected.")
        in page
    )
    assert 'value="https://youtu.be/&lt;mine&gt;"' in page
    assert '<option value="vk" selected>VK</option>' in page
    late = {
        "use-platform": "",
        "use-url": "https://youtu.be/late",
        "use-published_on": "2026-02-27",
        "use-title": "Late «video»",
        "use-track": "bm-7777",
    }
    response = client.post(POSTS["use_add"][0], late)
    page = response.content.decode()
    assert "No published track has the catalogue code bm-7777." in page
    assert 'value="https://youtu.be/late"' in page
    assert 'value="2026-02-27"' in page
    assert 'value="Late «video»"' in page
    assert 'value="bm-7777"' in page
    ready_track(title="Dawn", catalogue_code="BM-7777")
    response = client.post(POSTS["use_add"][0], late)
    page = response.content.decode()
    assert (
        "The licence covers works published 1 March 2026 – 1 April 2026; 27 February 2026 is "
        "outside that." in page
    )
    response = client.post(
        POSTS["use_add"][0],
        {"use-url": "https://youtu.be/x", "use-published_on": "2026-02-30", "use-title": "a\tb"},
    )
    page = response.content.decode()
    assert "Enter a valid date." in page
    assert "The text holds a line break or tab (U+0009); this value is one line." in page
    assert holdings() == ([], [])


def test_a_registration_in_russian(client, owner, subscription):
    client.force_login(owner)
    headers = {"accept-language": "ru"}
    page = client.get(PAGE, headers=headers).content.decode()
    assert "<h1>Что охватывает лицензия BM-2026-000042</h1>" in page
    assert '<dd id="coverage-status">Действует, оплачена по 1 апреля 2026.</dd>' in page
    response = client.post(
        POSTS["use_add"][0],
        {"use-url": "https://youtu.be/x", "use-published_on": "2026-02-20"},
        headers=headers,
    )
    assert (
        "Лицензия охватывает произведения, опубликованные в период 1 марта 2026 – "
        "1 апреля 2026; дата 20 февраля 2026 в него не входит." in response.content.decode()
    )
    response = client.post(
        POSTS["use_add"][0],
        {"use-url": "https://youtu.be/x", "use-published_on": "2026-03-02"},
        headers=headers,
        follow=True,
    )
    assert "Произведение добавлено." in response.content.decode()


def test_a_single_track_licence_asks_for_no_track(client, owner):
    track = ready_track(title="Dawn", catalogue_code="BM-0001")
    licence(
        user=owner, kind=PlanKind.SINGLE_TRACK, uses=[Use.PROJECT], track=track, term="perpetual"
    )
    client.force_login(owner)
    page = client.get(PAGE).content.decode()
    assert 'name="use-track"' not in page
    assert "<dd>Dawn (BM-0001)</dd>" in page
    assert '<dd id="coverage-status">In force; the licence is perpetual.</dd>' in page
    client.post(POSTS["use_add"][0], POSTS["use_add"][1])
    assert CoveredUse.objects.get().track == track


def test_a_revoked_licence_shows_what_was_registered_and_offers_nothing(
    client, owner, subscription, registered
):
    moved(subscription, to=Agreement.Status.REVOKED, at=NOW)
    client.force_login(owner)
    page = client.get(PAGE).content.decode()
    assert '<dd id="coverage-status">Revoked: this licence covers nothing.</dd>' in page
    assert 'id="channel-form"' not in page and 'id="use-form"' not in page
    assert "letter.pdf" not in page
    assert client.get(LETTER).status_code == 404
    response = client.post(*POSTS["channel_add"])
    assert (
        "This licence was revoked: it covers nothing, so nothing can be registered."
        in response.content.decode()
    )


def test_a_venue_licence_has_no_coverage_page(client, owner):
    licence(user=owner, kind=PlanKind.VENUE, uses=[Use.PUBLIC_PERFORMANCE])
    client.force_login(owner)
    assert client.get(PAGE).status_code == 404
    assert client.get(LETTER).status_code == 404
    assert client.post(*POSTS["channel_add"]).status_code == 404


@pytest.mark.parametrize(
    ("query", "accept", "language", "heading"),
    [
        ("", "en", "en", "Licence coverage letter BM-2026-000042"),
        ("", "ru", "ru", "Письмо-подтверждение лицензии BM-2026-000042"),
        ("?language=ru", "en", "ru", "Письмо-подтверждение лицензии BM-2026-000042"),
        ("?language=en", "ru", "en", "Licence coverage letter BM-2026-000042"),
        ("?language=de", "ru", "ru", "Письмо-подтверждение лицензии BM-2026-000042"),
    ],
)
def test_the_letter_is_in_the_language_asked_for_or_the_pages(
    client, owner, registered, query, accept, language, heading
):
    client.force_login(owner)
    response = client.get(LETTER + query, headers={"accept-language": accept})
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'inline; filename="licence-BM-2026-000042-coverage-{language}.pdf"'
    )
    assert heading in pdf_text(response.content)[0].split("\n")
