"""The demo seed's curation: its collections and the descriptions of earlier seedings."""

import pytest

from backgroundmusic.catalog.demo.collections import COLLECTIONS, collections_ensure
from backgroundmusic.catalog.demo.recipes import RECIPES, recipe_by_code
from backgroundmusic.catalog.demo.seed import _legacy_description, descriptions_refresh
from backgroundmusic.catalog.models import Collection, CollectionItem
from backgroundmusic.catalog.services import collection_update, track_create

pytestmark = pytest.mark.django_db


def demo_tracks(codes):
    for code in codes:
        recipe = recipe_by_code(code)
        assert recipe is not None
        track_create(
            actor=None,
            title=recipe.title,
            catalogue_code=code,
            description=recipe.description,
            is_published=True,
        )


def test_collections_are_few_curated_in_both_languages_and_name_known_codes():
    codes = {recipe.code for recipe in RECIPES}
    assert 4 <= len(COLLECTIONS) <= 6
    assert len({spec.slug for spec in COLLECTIONS}) == len(COLLECTIONS)
    for spec in COLLECTIONS:
        assert set(spec.codes) <= codes
        assert len(set(spec.codes)) == len(spec.codes) >= 5
        assert spec.title_ru and spec.description_ru and spec.title != spec.title_ru
    assert any(spec.featured for spec in COLLECTIONS)


def test_collections_are_made_once_when_their_tracks_are_there_and_left_alone_after():
    first = COLLECTIONS[0]
    demo_tracks(first.codes)
    assert collections_ensure() == [first.slug]
    made = Collection.objects.get(slug=first.slug)
    assert (made.title, made.title_ru, made.is_published, made.is_featured) == (
        first.title,
        first.title_ru,
        True,
        first.featured,
    )
    assert list(
        CollectionItem.objects.filter(collection=made)
        .order_by("position")
        .values_list("track__catalogue_code", flat=True)
    ) == list(first.codes)
    # Staff edit it; seeding again changes nothing and makes nothing new.
    collection_update(
        actor=None,
        collection=made,
        kind=made.kind,
        title="Renamed",
        slug=made.slug,
        description="",
        is_published=False,
        track_ids=[],
    )
    assert collections_ensure() == []
    assert Collection.objects.count() == 1
    assert Collection.objects.get(slug=first.slug).title == "Renamed"
    # The rest come once every track is there.
    demo_tracks({code for spec in COLLECTIONS for code in spec.codes} - set(first.codes))
    assert collections_ensure() == [spec.slug for spec in COLLECTIONS[1:]]
    assert collections_ensure() == []
    assert Collection.objects.count() == len(COLLECTIONS)


def test_descriptions_of_earlier_seedings_lose_the_rendering_details_once():
    stale, edited, current = RECIPES[0], RECIPES[1], RECIPES[2]
    for recipe, description in (
        (stale, _legacy_description(stale)),
        (edited, "Written by staff."),
        (current, current.description),
    ):
        track_create(
            actor=None,
            title=recipe.title,
            catalogue_code=recipe.code,
            description=description,
        )
    assert descriptions_refresh(recipes=RECIPES) == [stale.code]
    assert descriptions_refresh(recipes=RECIPES) == []
    from backgroundmusic.catalog.models import Track

    descriptions = dict(Track.objects.values_list("catalogue_code", "description"))
    assert descriptions == {
        stale.code: stale.description,
        edited.code: "Written by staff.",
        current.code: current.description,
    }
    assert "soundfont" not in Track.objects.get(catalogue_code=stale.code).search_document
