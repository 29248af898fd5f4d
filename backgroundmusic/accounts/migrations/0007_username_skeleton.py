"""Every account gets the digest of its username's look-alike skeleton (accounts/usernames.py).

Accounts that already look alike keep their names: the oldest holds the value, the later ones
stay NULL (the unique constraint, added by the next migration in its own transaction, ignores
NULL), and the oldest still blocks new look-alikes.
"""

from django.db import migrations, models

from backgroundmusic.accounts.usernames import username_skeleton_digest


def fill_username_skeletons(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    taken: set[str] = set()
    for user in User.objects.order_by("pk").only("pk", "username").iterator():
        digest = username_skeleton_digest(user.username)
        if digest not in taken:
            taken.add(digest)
            User.objects.filter(pk=user.pk).update(username_skeleton=digest)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0006_break_glass"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="username_skeleton",
            field=models.CharField(
                blank=True,
                editable=False,
                max_length=64,
                null=True,
                verbose_name="username look-alike digest",
            ),
        ),
        migrations.RunPython(fill_username_skeletons, migrations.RunPython.noop),
    ]
