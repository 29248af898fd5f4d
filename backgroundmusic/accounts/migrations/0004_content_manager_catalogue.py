"""Content managers (and administrators) edit the catalogue and upload masters."""

from django.db import migrations

from backgroundmusic.staffroles.roles import role_groups_sync


def sync_roles(apps, schema_editor):
    role_groups_sync(apps)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0003_privacy_officer_permissions"),
        ("catalog", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
