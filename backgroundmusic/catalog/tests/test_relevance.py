"""Relevance over the demo catalogue (catalog/demo/recipes.py, made through the catalogue
services without audio): a fixed set of queries in both languages, with typos, and the tracks
each must return in its top five. Run on SQLite and on PostgreSQL alike: both must pass."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import translation

from backgroundmusic.catalog.demo.recipes import RECIPES
from backgroundmusic.catalog.demo.seed import recipe_instruments, vocabulary_ensure
from backgroundmusic.catalog.selectors import track_search
from backgroundmusic.catalog.tests.fixtures import ready_track

pytestmark = pytest.mark.django_db

ANYONE = AnonymousUser()
MOZART = {recipe.code for recipe in RECIPES if recipe.composer.endswith("Mozart")}
HAYDN = {recipe.code for recipe in RECIPES if recipe.composer == "Joseph Haydn"}
BEETHOVEN = {recipe.code for recipe in RECIPES if recipe.composer.endswith("Beethoven")}

# Query → the catalogue codes that must all be among its first five results.
TOP_FIVE: dict[str, set[str]] = {
    "waltzes": {"BM-0022"},  # Clockwork Waltz, by its stem
    "wlatz": {"BM-0022"},  # a typo
    "вальсы": {"BM-0022"},  # Заводной вальс
    "заводной вальс": {"BM-0022"},
    "clokwork": {"BM-0022"},
    "harpsichrd": {"BM-0006", "BM-0016", "BM-0031"},  # a typo of the instrument
    "harpsicord": {"BM-0006", "BM-0016", "BM-0031"},  # one edit as typed, two once folded
    "клавесин": {"BM-0006", "BM-0016", "BM-0031"},
    "rain": {"BM-0005"},
    "дождь": {"BM-0005"},
    "lulaby": {"BM-0018"},
    "колыбельная": {"BM-0018"},
    "колыбельные": {"BM-0018"},
    "wedding": {"BM-0008", "BM-0017"},
    "свадьбы": {"BM-0008", "BM-0017"},
    "джоплин": {"BM-0032"},
    "maple leaf": {"BM-0032"},
    "шуберт": {"BM-0030"},
    "schubert linden": {"BM-0030"},
    "охота": {"BM-0007"},
    "the hunt": {"BM-0007"},
    "менуэт": {"BM-0006"},  # Садовый менуэт, by its title before the Menuettos
    "рондо": {"BM-0014"},
    "organ": {"BM-0023", "BM-0038"},
    "органы": {"BM-0023", "BM-0038"},
    "закат": {"BM-0009"},
    "sunsets": {"BM-0009"},
}
# Query → every track it finds (the first five of them are all of this composer).
ALL_OF: dict[str, set[str]] = {
    "mozzart": MOZART,
    "моцарт": MOZART,
    "Моцарта": MOZART,
    "motsart": MOZART,
    "бетховен": BEETHOVEN,
    "beethovn": BEETHOVEN,
    "гайдн": HAYDN,
    "haydn": HAYDN,
}
NOTHING = ["%", "\\", "_", "' OR 1=1 --", '"', "%%", "*", "--", "шопен", "xyzzy", "ъ"]


@pytest.fixture
def demo_catalogue():
    vocabulary_ensure()
    for recipe in RECIPES:
        ready_track(
            title=recipe.title,
            title_ru=recipe.title_ru,
            catalogue_code=recipe.code,
            description=recipe.description,
            description_ru=recipe.description_ru,
            composer=recipe.composer,
            genres=recipe.genres,
            moods=recipe.moods,
            instruments=recipe_instruments(recipe),
            tags=recipe.tag_pairs,
            tempo_bpm=round(recipe.bpm),
            energy=recipe.energy,
        )


def codes(query: str) -> list[str]:
    result = track_search(user=ANYONE, query=query, page_size=100)
    return [track.catalogue_code for track in result.items]


@pytest.mark.parametrize("language", ["en", "ru"])
def test_each_query_returns_its_tracks_in_the_top_five(demo_catalogue, language):
    with translation.override(language):
        top_fives = {query: codes(query)[:5] for query in TOP_FIVE}
    missing = {
        query: sorted(TOP_FIVE[query] - set(top_five))
        for query, top_five in top_fives.items()
        if not TOP_FIVE[query] <= set(top_five)
    }
    assert missing == {}, top_fives


def test_a_composer_in_either_alphabet_or_misspelt_finds_all_their_tracks(demo_catalogue):
    found = {query: set(codes(query)) for query in ALL_OF}
    assert found == ALL_OF


@pytest.mark.parametrize("query", NOTHING)
def test_characters_are_text_and_never_wildcards_or_syntax(demo_catalogue, query):
    result = track_search(user=ANYONE, query=query)
    assert (result.total, result.items) == (0, [])
