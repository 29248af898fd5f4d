"""Staff roles as groups with their permissions (names and grants live in staffroles/roles.py)."""

from django.db import migrations

from backgroundmusic.staffroles.roles import role_groups_sync


def create_roles(apps, schema_editor):
    role_groups_sync(apps)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
        ('auth', '0012_alter_user_first_name_max_length'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('privacy', '0002_staff_access_log'),
    ]

    operations = [
        migrations.RunPython(create_roles, migrations.RunPython.noop),
    ]
