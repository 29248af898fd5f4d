from django.db import migrations, models

from backgroundmusic.catalog import search_terms

FACETS_INDEX = "catalog_track_facets_gin"


def facets_fill(apps, schema_editor):
    """The facet terms of the tracks there are (as the catalogue services make them from now
    on)."""
    Track = apps.get_model("catalog", "Track")
    for track in Track.objects.prefetch_related(*search_terms.FACET_TERM_LETTERS):
        terms = [
            search_terms.facet_term(relation, pk)
            for relation in search_terms.FACET_TERM_LETTERS
            for pk in sorted(facet.pk for facet in getattr(track, relation).all())
        ]
        track.search_facets = f" {' '.join(terms)} "
        track.save(update_fields=["search_facets"])


def create_index(apps, schema_editor):
    """On PostgreSQL, facet filters join the text match in the index (a bitmap AND of the two
    GIN indexes); the expression is the one catalog.selectors queries. Without a pending list,
    as the search index (migration 0004)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {FACETS_INDEX} ON catalog_track USING GIN "
        "(to_tsvector('simple'::regconfig, COALESCE(search_facets, ''))) WITH (fastupdate = off)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {FACETS_INDEX}")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0005_collection_russian_texts_and_featured")]

    operations = [
        migrations.AddField(
            model_name="track",
            name="search_facets",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.RunPython(facets_fill, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
