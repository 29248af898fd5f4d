"""The newsletter editor: writes, previews, test-sends, schedules and cancels campaigns."""

from django.db import migrations

from backgroundmusic.staffroles.roles import role_groups_sync


def sync_roles(apps, schema_editor):
    role_groups_sync(apps)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0011_profile_phone_language"),
        ("mailing", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
