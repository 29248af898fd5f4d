"""The catalogue holds no personal data: tracks, collections and their vocabularies."""

from backgroundmusic.privacy.kernel.registry import declare

for label, fields in {
    "catalog.Genre": ["id", "slug", "name_en", "name_ru"],
    "catalog.Mood": ["id", "slug", "name_en", "name_ru"],
    "catalog.Instrument": ["id", "slug", "name_en", "name_ru"],
    "catalog.Tag": ["id", "name", "name_ru"],
    "catalog.SearchTermVariant": ["id", "variant", "term"],
    "catalog.Track": [
        "id",
        "title",
        "title_ru",
        "slug",
        "description",
        "description_ru",
        "rights_holder",
        "composer",
        "catalogue_code",
        "genres",
        "moods",
        "instruments",
        "tags",
        "tempo_bpm",
        "musical_key",
        "energy",
        "duration_seconds",
        "is_instrumental",
        "release_date",
        "is_published",
        "search_document",
        "search_title",
        "created_at",
        "updated_at",
    ],
    "catalog.Collection": ["id", "kind", "title", "slug", "description", "is_published", "tracks"],
    "catalog.CollectionItem": ["id", "collection", "track", "position"],
}.items():
    declare(label, subject="", not_personal=fields)
