"""Full-text index of the track search document, on PostgreSQL only (SQLite searches by
substring, docs/decisions/0006-catalogue-search.md). The expression is the one
catalog.selectors.track_search queries, so the planner can use the index."""

from django.db import migrations

INDEX = "catalog_track_search_gin"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON catalog_track USING GIN "
        "(to_tsvector('simple'::regconfig, COALESCE(search_document, '')))"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
