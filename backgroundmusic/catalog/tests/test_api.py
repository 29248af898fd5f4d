import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from backgroundmusic.catalog.services import collection_create
from backgroundmusic.catalog.tests.fixtures import make_facets, ready_track
from config.wsgi import application

pytestmark = pytest.mark.django_db


@pytest.fixture
def tracks():
    make_facets()
    light = ready_track(
        title="Morning Light",
        catalogue_code="MW-1",
        genres=["ambient"],
        moods=["calm"],
        instruments=["piano"],
        tags=["sunrise"],
        tempo_bpm=80,
        energy=2,
        duration_seconds=125.5,
        preview_seconds=1.0,
    )
    run = ready_track(title="City Run", catalogue_code="MW-2", genres=["classical"], energy=8)
    ready_track(title="Draft", catalogue_code="MW-3", published=False)
    return light, run


def test_track_search(client, tracks):
    response = client.get("/api/tracks?genre=ambient&mood=calm&q=sunrise&page_size=10")
    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["page"], body["page_size"], body["pages"]) == (1, 1, 10, 1)
    item = body["items"][0]
    assert item["preview_url"].startswith("/stream/")
    del item["preview_url"]
    assert item == {
        "slug": "morning-light",
        "title": "Morning Light",
        "title_ru": "",
        "composer": "",
        "rights_holder": "MUSWAY STUDIO",
        "catalogue_code": "MW-1",
        "genres": [{"slug": "ambient", "name_en": "Ambient", "name_ru": "Эмбиент"}],
        "moods": [{"slug": "calm", "name_en": "Calm", "name_ru": "Спокойное"}],
        "instruments": [{"slug": "piano", "name_en": "Piano", "name_ru": "Фортепиано"}],
        "tempo_bpm": 80,
        "musical_key": "",
        "energy": 2,
        "duration_seconds": 125.5,
        "is_instrumental": True,
        "release_date": None,
        "page_url": "/catalog/morning-light/",
    }
    assert body["facets"]["genres"] == [
        {"slug": "ambient", "name": "Ambient", "count": 1, "selected": True},
        {"slug": "classical", "name": "Classical", "count": 0, "selected": False},
    ]


def test_pagination_and_sorting(client, tracks):
    body = client.get("/api/tracks?sort=title&page=2&page_size=1").json()
    assert ([t["title"] for t in body["items"]], body["total"], body["pages"]) == (
        ["Morning Light"],
        2,
        2,
    )


@pytest.mark.parametrize(
    ("query", "status", "code", "message"),
    [
        ("genre=jazz", 400, "invalid_search", "Unknown genre: jazz."),
        (
            "bpm_min=120&bpm_max=60",
            400,
            "invalid_search",
            "Tempo (BPM): the lower bound 120 is above the upper bound 60.",
        ),
        ("sort=loud", 422, "invalid_request", "The request is not valid."),
        ("page=0", 422, "invalid_request", "The request is not valid."),
        ("page_size=1000", 422, "invalid_request", "The request is not valid."),
        ("bpm_min=" + "9" * 40, 422, "invalid_request", "The request is not valid."),
    ],
)
def test_bad_parameters_get_the_error_envelope(client, tracks, query, status, code, message):
    response = client.get(f"/api/tracks?{query}")
    assert response.status_code == status
    error = response.json()["error"]
    assert (error["code"], error["message"]) == (code, message)


def test_track_detail(client, tracks):
    body = client.get("/api/tracks/morning-light").json()
    assert body["tags"] == ["sunrise"]
    assert body["loudness"] == {
        "integrated_lufs": -16.04,
        "loudness_range_lu": 5.2,
        "true_peak_dbtp": -1.03,
    }
    assert body["waveform_peaks"] == [[-0.5, 0.5], [-1.0, 0.9], [-0.25, 0.3], [0.0, 0.0]]
    response = client.get("/api/tracks/draft")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_collections(client, tracks):
    light, run = tracks
    collection_create(
        actor=None, kind="album", title="Calm", is_published=True, track_ids=[run.pk, light.pk]
    )
    collection_create(actor=None, kind="album", title="Hidden", track_ids=[light.pk])
    assert client.get("/api/collections").json() == [
        {"slug": "calm", "title": "Calm", "kind": "album", "description": "", "track_count": 2}
    ]
    body = client.get("/api/collections/calm").json()
    assert [t["slug"] for t in body["tracks"]] == ["city-run", "morning-light"]
    assert client.get("/api/collections/hidden").status_code == 404


# Schemathesis: the catalogue's operations, in-process against the WSGI app (licensing's, which
# need a signed-in licensee, have their run in licensing/tests/test_api_schema.py)

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application).include(tag="catalogue")


@pytest.fixture
def catalogue_for_fuzzing(db):
    # As Django's test client does: a request must not close the test's database connection
    # (which holds the test transaction); schemathesis calls the WSGI app directly.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        make_facets()
        ready_track(title="Morning Light", catalogue_code="MW-1", genres=["ambient"], tempo_bpm=80)
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_schema(case, catalogue_for_fuzzing):
    # Every documented answer, no 5xx, no schema violation. Valid-by-schema filters may still
    # name nothing (an unknown genre slug) and get the documented 400, so "positive data must be
    # accepted with 2xx" does not apply.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
