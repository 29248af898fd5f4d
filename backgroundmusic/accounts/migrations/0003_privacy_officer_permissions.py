"""The privacy officer publishes policy editions, handles requests and records disclosures."""

from django.db import migrations

from backgroundmusic.staffroles.roles import role_groups_sync


def sync_roles(apps, schema_editor):
    role_groups_sync(apps)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0002_staff_roles"),
        ("privacy", "0003_privacy_center"),
    ]

    operations = [
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
