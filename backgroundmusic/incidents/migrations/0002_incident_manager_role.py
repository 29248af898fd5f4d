"""The privacy officer manages incidents: the permission joins the role groups."""

from django.db import migrations

from backgroundmusic.staffroles.roles import role_groups_sync


def sync_roles(apps, schema_editor):
    role_groups_sync(apps)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0012_newsletter_editor_role"),
        ("incidents", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
