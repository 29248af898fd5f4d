"""Analysts, administrators and privacy officers see the aggregate statistics; privacy officers
release research datasets."""

from django.db import migrations

from backgroundmusic.staffroles.roles import role_groups_sync


def sync_roles(apps, schema_editor):
    role_groups_sync(apps)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0004_content_manager_catalogue"),
        ("analytics", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
