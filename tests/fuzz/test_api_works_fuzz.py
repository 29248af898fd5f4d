"""Hypothesis on the API's one licensing write, POST /api/me/agreements/<number>/works
(licensing/api.py): any JSON body, as the licensee. Never a 5xx; a refusal is the error
envelope with its code and writes nothing; an accepted work is stored exactly as the coverage
page's form stores it (tests/fuzz/test_coverage_fuzz.py states those rules without the code),
and the answer is what was stored."""

import json
import string
from datetime import date

import pytest
from hypothesis import event, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from backgroundmusic.core import clock
from backgroundmusic.core.text import TextKind, text_refusal
from backgroundmusic.licensing.models import CoveredUse
from tests.fuzz.test_coverage_fuzz import (  # noqa: F401 - the scene fixture
    DATES,
    FIRST_DAY,
    LAST_DAY,
    LATEST,
    NOW,
    PHASES,
    PLATFORMS,
    SUPPRESSED,
    URLS,
    WELL_FORMED,
    assert_stored_link,
    scene,
    separate_example,
)

pytestmark = pytest.mark.django_db

WORKS = "/api/me/agreements/BM-2026-000042/works"
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
FIELDS = {
    "url": st.one_of(URLS, WELL_FORMED, JSON_VALUES),
    "published_on": st.one_of(DATES, JSON_VALUES),
    "platform": st.one_of(PLATFORMS, JSON_VALUES),
    "title": st.one_of(
        st.text(st.sampled_from(string.ascii_letters + " «»—Жё"), max_size=30),
        st.text(min_size=290, max_size=320),
        JSON_VALUES,
    ),
    "track": st.one_of(
        st.sampled_from(["", "BM-0001", "bm-0001", " BM-0001 ", "BM-9"]), JSON_VALUES
    ),
}


@st.composite
def bodies(draw: st.DrawFn) -> object:
    """Mostly a plausible work with some fields replaced, dropped or joined by others; now and
    then not an object at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(JSON_VALUES)
    body: dict[str, object] = {
        "url": draw(WELL_FORMED),
        "published_on": draw(st.dates(min_value=FIRST_DAY, max_value=LATEST)).isoformat(),
    }
    for name in draw(st.sets(st.sampled_from(sorted(FIELDS)), max_size=3)):
        body[name] = draw(FIELDS[name])
    for name in draw(st.sets(st.sampled_from(sorted(body)), max_size=1)):
        del body[name]
    body.update(draw(st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=2)))
    return body


@hypothesis_settings(
    max_examples=200, deadline=None, suppress_health_check=SUPPRESSED, phases=PHASES
)
@given(body=bodies())
@example(body={"url": "https://youtu.be/a", "published_on": "2026-03-05", "title": "\ud800"})
@example(body={"url": "https://youtu.be/a", "published_on": "2026-03-05", "track": 7})
@example(body={"url": "https://youtu.be/a", "published_on": "2026-03-05T00:00:00"})
@example(body={"url": "https://youtu.be/a", "published_on": 1772668800})
@example(body={"url": "https://youtu.be/a", "published_on": "2026-03-05"})
@example(body={"url": "https://youtu.be/a\u0000", "published_on": "2026-03-05"})
def test_a_work_is_stored_by_the_coverage_rules_or_refused_with_nothing_written(
    scene,  # noqa: F811 - the fixture
    body,
):
    client, agreement = scene
    # ensure_ascii: lone surrogates travel as JSON escapes, as a client may send them.
    raw = json.dumps(body, ensure_ascii=True)
    with separate_example(client), clock.frozen_at(NOW):
        response = client.post(WORKS, raw, content_type="application/json")
        answer = response.json()
        if response.status_code != 201:
            event(f"refused {response.status_code}")
            assert response.status_code in (400, 422), answer
            assert set(answer) == {"error"}
            assert isinstance(answer["error"]["code"], str) and answer["error"]["message"]
            assert not CoveredUse.objects.exists()
            return
        event("accepted")
        assert isinstance(body, dict)
        use = CoveredUse.objects.select_related("track").get()
        assert use.agreement == agreement
        assert_stored_link(use.url, body["url"], use.platform, body.get("platform", ""))
        assert FIRST_DAY <= use.published_on <= min(LAST_DAY, LATEST)
        assert use.published_on == date.fromisoformat(body["published_on"])
        title = body.get("title", "")
        assert use.title == title.strip() and len(use.title) <= 300
        assert text_refusal(use.title, TextKind.LINE) is None
        track = body.get("track", "")
        assert (use.track.catalogue_code if use.track else "") == track.strip().upper()
        assert answer == {
            "platform": use.platform,
            "url": use.url,
            "title": use.title,
            "published_on": use.published_on.isoformat(),
            "track": (
                {
                    "slug": use.track.slug,
                    "title": use.track.title,
                    "catalogue_code": use.track.catalogue_code,
                    "page_url": f"/catalog/{use.track.slug}/",
                }
                if use.track
                else None
            ),
            "covered": True,
            "added_at": "2026-03-10T12:00:00Z",
        }
