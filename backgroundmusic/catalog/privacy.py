"""The catalogue holds no personal data: tracks, collections and their vocabularies."""

from backgroundmusic.privacy.kernel.registry import declare

for label, fields in {
    "catalog.Genre": ["id", "slug", "name_en", "name_ru"],
    "catalog.Mood": ["id", "slug", "name_en", "name_ru"],
    "catalog.Instrument": ["id", "slug", "name_en", "name_ru"],
    "catalog.Tag": ["id", "name"],
    "catalog.Track": [
        "id",
        "title",
        "slug",
        "description",
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
        "created_at",
        "updated_at",
    ],
    "catalog.Collection": [
        "id",
        "kind",
        "title",
        "title_ru",
        "slug",
        "description",
        "description_ru",
        "is_published",
        "is_featured",
        "tracks",
    ],
    "catalog.CollectionItem": ["id", "collection", "track", "position"],
}.items():
    declare(label, subject="", not_personal=fields)
