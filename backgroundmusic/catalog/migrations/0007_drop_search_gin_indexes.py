from django.db import migrations

# Created by migrations 0002 and 0006 for the text and facet matches in SQL; search matches in
# each process's index since decision 0044, and nothing else reads them. bench/search.py makes
# them again for its hand-written SQL.
INDEXES = {
    "catalog_track_search_gin": "search_document",
    "catalog_track_facets_gin": "search_facets",
}


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON catalog_track USING GIN "
            f"(to_tsvector('simple'::regconfig, COALESCE({column}, ''))) WITH (fastupdate = off)"
        )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0006_track_search_facets")]

    operations = [migrations.RunPython(drop_indexes, create_indexes, elidable=False)]
