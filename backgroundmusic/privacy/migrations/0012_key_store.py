"""The data keys move to the key store (decision 0036).

The historical DataKey (table privacy_datakey, in the main database) leaves the state; the new
one (table keystore_datakey) and the erasure ledger are created where kernel/routers.py sends
them, the key store (`manage.py migrate --database keys`). Then, on the main database, every key
left in privacy_datakey is copied to the key store under the same id (sealed values name their
key by id), the copies checked, and the old table dropped, so no later backup of the main
database holds a key. Run again after a failure, it copies only what is missing.
"""

from datetime import UTC, datetime

from django.conf import settings
from django.core.management.color import no_style
from django.db import connections, migrations, models, transaction
from django.utils import timezone

OLD_TABLE = "privacy_datakey"
COLUMNS = ["id", "subject_id", "master_key_id", "wrapped_key", "created_at", "rewrapped_at"]


class KeyStoreNotMigrated(Exception):
    pass


def _aware(value):
    # SQLite's raw rows hand back its UTC times without a zone; PostgreSQL's carry theirs.
    if isinstance(value, datetime) and timezone.is_naive(value):
        return value.replace(tzinfo=UTC)
    return value


def move_keys_to_store(apps, schema_editor):
    main = schema_editor.connection
    with main.cursor() as cursor:
        if OLD_TABLE not in main.introspection.table_names(cursor):
            return
        cursor.execute(
            "SELECT {} FROM {} ORDER BY id".format(  # noqa: S608 - fixed names
                ", ".join(main.ops.quote_name(c) for c in COLUMNS), main.ops.quote_name(OLD_TABLE)
            )
        )
        rows = cursor.fetchall()
    if rows:
        DataKey = apps.get_model("privacy", "DataKey")
        store = connections[settings.KEYS_DB_ALIAS]
        with store.cursor() as cursor:
            if DataKey._meta.db_table not in store.introspection.table_names(cursor):
                raise KeyStoreNotMigrated(
                    "The main database still holds data keys and the key store has no table for "
                    "them yet: run `manage.py migrate --database keys` first, then migrate again."
                )
        with transaction.atomic(using=store.alias):
            present = set(DataKey.objects.using(store.alias).values_list("pk", flat=True))
            moved = [
                DataKey(**{c: _aware(v) for c, v in zip(COLUMNS, row, strict=True)})
                for row in rows
                if row[0] not in present
            ]
            created = {key.pk: key.created_at for key in moved}
            DataKey.objects.using(store.alias).bulk_create(moved)
            # bulk_create stamped them now (auto_now_add): put back when each key was made.
            for key in moved:
                key.created_at = created[key.pk]
            DataKey.objects.using(store.alias).bulk_update(moved, ["created_at"])
            with store.cursor() as cursor:
                for statement in store.ops.sequence_reset_sql(no_style(), [DataKey]):
                    cursor.execute(statement)
        stored = set(DataKey.objects.using(store.alias).values_list("pk", flat=True))
        missing = {row[0] for row in rows} - stored
        if missing:
            raise KeyStoreNotMigrated(f"data keys not in the key store: {sorted(missing)}")
    schema_editor.execute(f"DROP TABLE {main.ops.quote_name(OLD_TABLE)}")


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0011_legal_holds"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="DataKey")],
        ),
        migrations.CreateModel(
            name="DataKey",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("subject_id", models.PositiveBigIntegerField(unique=True)),
                ("master_key_id", models.CharField(max_length=32)),
                ("wrapped_key", models.BinaryField()),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("rewrapped_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={"db_table": "keystore_datakey"},
        ),
        migrations.CreateModel(
            name="ErasureLedgerEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("subject_id", models.PositiveBigIntegerField(unique=True)),
                ("erasure_job_id", models.PositiveBigIntegerField()),
                ("recorded_at", models.DateTimeField()),
            ],
            options={
                "verbose_name": "erasure ledger entry",
                "verbose_name_plural": "erasure ledger entries",
                "ordering": ["pk"],
                "default_permissions": (),
                "db_table": "keystore_erasureledgerentry",
            },
        ),
        migrations.RunPython(move_keys_to_store, migrations.RunPython.noop),
    ]
