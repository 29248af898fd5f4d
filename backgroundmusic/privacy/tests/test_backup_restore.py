"""The restore drill (decision 0036): people with sealed data, a backup, one of them erased, the
old backup restored; the erasure ledger is replayed by the restore itself and the canary's values
are then in no table of any database and no file, while the other person's data is whole and
opens. Run against the suite's database: SQLite through its backup API, PostgreSQL (the second
pass of `make test`) through the real pg_dump and pg_restore."""

import importlib
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import Client

from backgroundmusic.accounts.models import Profile, SocialLink, User
from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.core import clock
from backgroundmusic.media.models import Master
from backgroundmusic.privacy import backups
from backgroundmusic.privacy.kernel import crypto, ledger
from backgroundmusic.privacy.kernel.fields import EncryptedTextField
from backgroundmusic.privacy.kernel.models import DataKey, ErasureLedgerEntry
from backgroundmusic.privacy.models import DestructionRecord, ErasureJob
from backgroundmusic.privacy.rights.erasure import erasure_request, erasure_run
from backgroundmusic.privacy.tests.test_canary_erasure import scan_database, scan_files
from backgroundmusic.privacy.tests.test_erasure import fill_every_store
from backgroundmusic.privacy.tests.test_export import OWNER_VALUES, make_owner, run_queued
from backgroundmusic.staffroles.roles import StaffRole
from tests.callers import caller_user

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

TOKEN = "drill5b2e"


def make_canary() -> User:
    """A person whose every value carries the token: the account's, and the sealed profile's."""
    user = UserFactory.create(username=TOKEN, email=f"{TOKEN}@example.com")
    profile = Profile.objects.get(user=user)
    profile.full_name = f"Vera {TOKEN.capitalize()}"
    profile.address_city = f"{TOKEN}-town"
    profile.address_street = f"{TOKEN} street 7"
    profile.save()
    SocialLink.objects.create(profile=profile, url=f"https://vk.com/{TOKEN}")
    return user


def sealed_columns() -> set[str]:
    """Every "table.column" that holds sealed values."""
    return {
        f"{model._meta.db_table}.{field.column}"
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
    }


def bystander_values(user: User) -> dict[str, object]:
    profile = Profile.objects.get(user=user)
    return {
        "full_name": profile.full_name,
        "address_city": profile.address_city,
        "address_street": profile.address_street,
        "phone": profile.phone,
        "social_links": [link.url for link in SocialLink.objects.filter(profile=profile)],
    }


@pytest.fixture
def backup_dir(tmp_path_factory) -> Path:
    """Backups are kept apart from the files the canary scan reads (they hold the canary's
    plain values until a restore's replay erases them from the restored copy)."""
    return tmp_path_factory.mktemp("backups")


@pytest.fixture
def scene():
    officer = caller_user("privacy_officer")
    assert officer.groups.filter(name=StaffRole.PRIVACY_OFFICER.value).exists()
    canary = make_canary()
    fill_every_store(canary, Client(), officer)
    # That scene names its master's file after the uploader; real keys are content hashes.
    Master.objects.filter(storage_key=f"masters/{TOKEN}").update(storage_key="masters/3f9a0c")
    bystander = make_owner("bystander")
    return canary, bystander


def erase(user: User) -> None:
    erasure_request(subject=user)
    assert run_queued("erase_account") == ["done"]


def test_the_restore_drill_replays_the_erasure_and_the_canary_is_nowhere(
    scene, backup_dir, tmp_path
):
    canary, bystander = scene
    expected_bystander = {
        "full_name": OWNER_VALUES["full_name"],
        "address_city": OWNER_VALUES["address_city"],
        "address_street": OWNER_VALUES["address_street"],
        "phone": OWNER_VALUES["phone"],
        "social_links": [OWNER_VALUES["social_link"]],
    }
    assert bystander_values(bystander) == expected_bystander
    assert scan_database(TOKEN)
    position_before = ledger.erasure_ledger_position()

    out = io.StringIO()
    call_command("backup", to=backup_dir, stdout=out)
    [folder] = list(backup_dir.iterdir())
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [backups.MANIFEST_NAME, backups.DATABASE_FILES[connection.vendor]]
    )
    manifest = json.loads((folder / backups.MANIFEST_NAME).read_text())
    assert (manifest["engine"], manifest["ledger_position"]) == (
        connection.vendor,
        position_before,
    )
    assert out.getvalue() == (
        f"Backed up the {connection.vendor} database to {folder} "
        f"(erasure ledger position {position_before}).\n"
    )

    erase(canary)
    [entry] = ledger.erasure_ledger_after(position=position_before)
    assert entry.subject_id == canary.pk
    assert scan_database(TOKEN) == []
    account = ("username", "email", "is_active")
    erased_account = User.objects.filter(pk=canary.pk).values_list(*account).get()

    out = io.StringIO()
    call_command("restore", str(folder), interactive=False, stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[1] == "Replayed 1 erasure(s) recorded after the backup:"
    assert lines[2].startswith(f"  ledger #{entry.position}: user #{canary.pk}, erasure asked for ")
    assert len(lines) == 3
    # The canary is nowhere: no table of any database, no file; the account is erased again,
    # exactly as the erasure had left it.
    assert scan_database(TOKEN) == []
    assert scan_files(tmp_path, TOKEN) == []
    assert User.objects.filter(pk=canary.pk).values_list(*account).get() == erased_account
    assert not DataKey.objects.filter(subject_id=canary.pk).exists()
    replayed = DestructionRecord.objects.get(reason=backups.REPLAY_REASON)
    assert replayed.method == "erasure"
    assert ErasureJob.objects.get(reason=backups.REPLAY_REASON).status == ErasureJob.Status.DONE
    # The ledger is not written twice for the replayed erasure.
    assert ErasureLedgerEntry.objects.filter(subject_id=canary.pk).count() == 1
    # The bystander is whole, and opens.
    assert bystander_values(bystander) == expected_bystander


def test_an_old_backup_alone_cannot_open_the_erased_persons_sealed_fields(scene, backup_dir):
    canary, bystander = scene
    folder, _manifest = backups.backup_create(directory=backup_dir)
    key_id = DataKey.objects.get(subject_id=canary.pk).pk
    erase(canary)

    backups.database_restore(folder=folder)  # the database only: no replay

    # The old copy holds the canary's account again, and their sealed values, under a key the
    # key store no longer has.
    assert User.objects.filter(pk=canary.pk).exists()
    profile = Profile.objects.filter(user_id=canary.pk)
    with pytest.raises(crypto.DataKeyDestroyed):
        profile.get()
    with pytest.raises(crypto.DataKeyDestroyed):
        list(SocialLink.objects.filter(profile__user_id=canary.pk))
    # Whatever of the token the raw tables show is in plain, unsealed columns (the lookups:
    # username, e-mail): no sealed column gives it away. That is what the ledger replay is for.
    found = set(scan_database(TOKEN))
    assert found
    assert not found & sealed_columns()
    assert scan_database(f"enc1:{key_id}:")  # the sealed copies are there, unreadable
    assert Profile.objects.get(user=bystander).full_name == OWNER_VALUES["full_name"]


def test_the_ledger_records_an_erasure_once_and_only_once_it_is_asked_for():
    person = UserFactory.create(username="erased-once")
    with pytest.raises(RuntimeError), transaction.atomic():
        erasure_request(subject=person)
        raise RuntimeError("the request's transaction rolls back")
    assert not ErasureLedgerEntry.objects.exists()

    job = erasure_request(subject=person)
    [entry] = ErasureLedgerEntry.objects.all()  # written when the request committed
    assert (entry.subject_id, entry.erasure_job_id) == (person.pk, job.pk)
    erasure_run(job_id=job.pk)
    erasure_run(job_id=job.pk)
    assert list(ErasureLedgerEntry.objects.values_list("pk", "subject_id")) == [
        (entry.pk, person.pk)
    ]
    assert ledger.erasure_ledger_position() == entry.pk


def test_the_ledger_is_append_only():
    entry = ErasureLedgerEntry.objects.create(
        subject_id=7, erasure_job_id=1, recorded_at=clock.now()
    )
    with pytest.raises(Exception, match="append-only"):
        entry.delete()
    with pytest.raises(Exception, match="append-only"):
        ErasureLedgerEntry.objects.filter(pk=entry.pk).update(subject_id=8)


def test_a_restore_refuses_a_backup_older_than_the_ledger_keeps_and_changes_nothing(
    backup_dir, settings
):
    person = UserFactory.create(username="stays")
    folder, manifest = backups.backup_create(directory=backup_dir)
    later = UserFactory.create(username="written-after")
    too_late = manifest.taken_at + timedelta(days=settings.BACKUP_MAX_AGE_DAYS, seconds=1)
    with clock.frozen_at(too_late), pytest.raises(CommandError) as refused:
        call_command("restore", str(folder), interactive=False)
    assert str(refused.value) == (
        f"{folder} was taken on {manifest.taken_at:%Y-%m-%d}, more than "
        f"{settings.BACKUP_MAX_AGE_DAYS} days ago: the erasure ledger no longer holds every "
        "erasure made since, so restoring it could bring erased people back"
    )
    assert set(User.objects.values_list("pk", flat=True)) >= {person.pk, later.pk}


def test_a_restore_refuses_a_folder_that_is_not_a_backup(tmp_path):
    with pytest.raises(CommandError) as refused:
        call_command("restore", str(tmp_path), interactive=False)
    assert str(refused.value) == (
        f"{tmp_path} is not a backup: manifest.json unreadable "
        f"([Errno 2] No such file or directory: '{tmp_path / 'manifest.json'}')"
    )


def test_a_restore_refuses_a_backup_beyond_the_ledgers_end(backup_dir):
    folder, _manifest = backups.backup_create(directory=backup_dir)
    manifest = json.loads((folder / backups.MANIFEST_NAME).read_text())
    manifest["ledger_position"] = 99
    (folder / backups.MANIFEST_NAME).write_text(json.dumps(manifest))
    with pytest.raises(CommandError, match="names erasure ledger position 99, beyond"):
        call_command("restore", str(folder), interactive=False)


def test_a_restore_asks_first_and_a_no_changes_nothing(backup_dir, monkeypatch):
    folder, _manifest = backups.backup_create(directory=backup_dir)
    later = UserFactory.create(username="written-after")
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError) as refused:
        call_command("restore", str(folder))
    assert str(refused.value) == "Restore cancelled; nothing changed."
    assert User.objects.filter(pk=later.pk).exists()


def test_the_migration_moves_keys_from_the_main_database_to_the_key_store_once():
    """An install from before the key store: its keys in privacy_datakey of the main database."""
    move = importlib.import_module("backgroundmusic.privacy.migrations.0012_key_store")
    binary = "bytea" if connection.vendor == "postgresql" else "blob"
    stamp = "timestamp with time zone" if connection.vendor == "postgresql" else "datetime"
    made = clock.now() - timedelta(days=400)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE privacy_datakey (id bigint PRIMARY KEY, subject_id bigint NOT NULL, "
            f"master_key_id varchar(32) NOT NULL, wrapped_key {binary} NOT NULL, "
            f"created_at {stamp} NOT NULL, rewrapped_at {stamp} NULL)"
        )
        cursor.execute(
            "INSERT INTO privacy_datakey VALUES (%s, %s, %s, %s, %s, NULL)",
            [41, 5, "k1", b"wrapped-41", made],
        )
    for _ in range(2):
        with connection.schema_editor() as editor:
            move.move_keys_to_store(apps, editor)
    assert "privacy_datakey" not in connection.introspection.table_names()
    [key] = DataKey.objects.all()
    assert (key.pk, key.subject_id, key.master_key_id, bytes(key.wrapped_key), key.created_at) == (
        41,
        5,
        "k1",
        b"wrapped-41",
        made,
    )
    # The key store's sequence moved past the copied ids: a new key gets a new id.
    assert DataKey.objects.create(subject_id=6, master_key_id="k1", wrapped_key=b"x").pk > 41
