"""One definition of "playable" (issue 10, section 6): every caller shows each kind of person
exactly the tracks `media.streaming.playable_tracks` gives them.

The callers: catalogue search (the page and the API), the track page and the API's track, a
collection's page, `may_play`, `playable_urls`, and the stream view itself, which is handed a
signed URL for every preview there is (signing does not ask the rule; opening does).
"""

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from backgroundmusic.accounts.models import User
from backgroundmusic.catalog.models import Track
from backgroundmusic.catalog.services import collection_create
from backgroundmusic.catalog.tests.fixtures import make_facets, ready_track
from backgroundmusic.licensing.models import PlanKind
from backgroundmusic.licensing.tests.factories import agreement, plan_edition
from backgroundmusic.media.models import Master, Rendition
from backgroundmusic.media.streaming import may_play, playable_tracks, playable_urls, signed_url
from backgroundmusic.media.tests.streaming_fixtures import body, encoded_clip, playable_track
from tests.callers import CALLERS

pytestmark = pytest.mark.django_db

PUBLIC = {"morning-light", "city-run"}
FOR_CALLER = {
    "anonymous": PUBLIC,
    "other_user": PUBLIC,
    # Content managers also hear (and so find) the draft whose master is ready.
    "content_manager": PUBLIC | {"draft"},
}
SLUG_OF_ROW = re.compile(r'<li class="track-row" data-slug="([^"]+)">')


@pytest.fixture
def catalogue() -> list[Track]:
    make_facets()
    made = [
        ready_track(title="Morning Light", genres=["ambient"], preview_seconds=0.2),
        ready_track(title="City Run", genres=["classical"], preview_seconds=0.2),
        ready_track(title="Draft", published=False, genres=["ambient"], preview_seconds=0.2),
        # A preview made before the master was sent back through ingest: not ready, not heard.
        ready_track(
            title="Reprocessing",
            status=Master.Status.PROCESSING,
            genres=["ambient"],
            preview_seconds=0.2,
        ),
        ready_track(title="Broken", status=Master.Status.FAILED, genres=["ambient"]),
    ]
    collection_create(
        actor=None,
        kind="curated",
        title="Everything",
        is_published=True,
        track_ids=[track.pk for track in made],
    )
    return made


def found_by_search_page(client: Client) -> set[str]:
    html = client.get("/catalog/").content.decode()
    rows = set(SLUG_OF_ROW.findall(html))
    assert html.count('class="play-preview"') == len(rows)
    assert f"{len(rows)} tracks</h2>" in html
    return rows


def found_by_search_api(client: Client) -> set[str]:
    body = client.get("/api/tracks").json()
    assert body["total"] == len(body["items"])
    assert all(item["preview_url"].startswith("/stream/") for item in body["items"])
    return {item["slug"] for item in body["items"]}


def opened_as_track_page(client: Client, tracks: list[Track]) -> set[str]:
    answers = {track.slug: client.get(f"/catalog/{track.slug}/").status_code for track in tracks}
    assert set(answers.values()) <= {200, 404}
    return {slug for slug, status in answers.items() if status == 200}


def opened_in_the_api(client: Client, tracks: list[Track]) -> set[str]:
    answers = {track.slug: client.get(f"/api/tracks/{track.slug}").status_code for track in tracks}
    assert set(answers.values()) <= {200, 404}
    return {slug for slug, status in answers.items() if status == 200}


def listed_in_the_collection(client: Client) -> set[str]:
    html = client.get("/catalog/collections/everything/").content.decode()
    return set(SLUG_OF_ROW.findall(html))


def streamed(user: User | AnonymousUser, client: Client, tracks: list[Track]) -> set[str]:
    """The tracks whose preview the stream view serves, given a signed URL of every one."""
    heard = set()
    for track in tracks:
        for rendition in Rendition.objects.filter(master__track=track, kind="preview"):
            response = client.get(signed_url(user=user, rendition=rendition))
            assert response.status_code in {200, 403}
            if response.status_code == 200:
                heard.add(track.slug)
    return heard


@pytest.mark.parametrize("kind", FOR_CALLER)
def test_every_caller_plays_the_same_tracks(kind, catalogue, caller_for):
    caller = caller_for(kind)
    user, client = caller.user or AnonymousUser(), caller.client
    expected = FOR_CALLER[kind]
    by_rule = set(playable_tracks(user=user, kind="preview").values_list("slug", flat=True))
    assert by_rule == expected
    assert {
        track.slug for track in catalogue if may_play(user=user, track=track, kind="preview")
    } == expected
    urls = playable_urls(user=user, tracks=catalogue, kind="preview")
    assert {track.slug for track in catalogue if urls[track.pk]} == expected
    assert found_by_search_page(client) == expected
    assert found_by_search_api(client) == expected
    assert opened_as_track_page(client, catalogue) == expected
    assert opened_in_the_api(client, catalogue) == expected
    assert listed_in_the_collection(client) == expected
    assert streamed(user, client, catalogue) == expected


def test_drafts_are_marked_for_content_managers(catalogue, caller_for):
    client = caller_for("content_manager").client
    row = client.get("/catalog/?genre=ambient").content.decode()
    assert row.count('<span class="track-unpublished">Not published</span>') == 1
    page = client.get("/catalog/draft/").content.decode()
    assert '<p class="track-unpublished">Not published</p>' in page
    public = client.get("/catalog/morning-light/").content.decode()
    assert "Not published" not in public


PLAY_BUTTON = re.compile(
    r'<button type="button" class="play-preview" data-src="([^"]+)" [^>]*aria-label="([^"]+)">'
)
# Who hears the whole track on its page: the licensee (owner) and the content managers.
HEARS_IN_FULL = {"owner", "content_manager", "administrator"}


@pytest.mark.parametrize("kind", CALLERS)
def test_the_track_page_plays_the_whole_track_to_whoever_may_hear_it(kind, caller_for, owner):
    """The page's player gets the web player's full rendition when the person may hear it,
    and the preview otherwise: the same question as the stream view asks."""
    track = playable_track()
    agreement(user=owner, edition=plan_edition(kind=PlanKind.CREATOR))
    client = caller_for(kind).client

    page = client.get(f"/catalog/{track.slug}/").content.decode()
    [(url, label)] = PLAY_BUTTON.findall(page)
    heard = body(client.get(url.replace("&amp;", "&")))

    if kind in HEARS_IN_FULL:
        assert label == f"Play {track.title} in full"
        assert "<span>Play the full track</span>" in page
        assert heard == encoded_clip(Rendition.Kind.OPUS)
    else:
        assert label == f"Play the preview of {track.title}"
        assert "<span>Play the preview</span>" in page
        assert heard == encoded_clip(Rendition.Kind.PREVIEW)
