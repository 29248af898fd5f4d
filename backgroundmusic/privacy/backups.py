"""Backups of the main database, and their restore followed by the replay of the erasure ledger
(`manage.py backup`, `manage.py restore`; docs/operations.md "Backup and restore", decision 0036).

A backup is a folder: the database (SQLite through its online backup API, PostgreSQL as a
pg_dump custom-format archive) and manifest.json (when, which engine, the erasure ledger's
position read before the copy began). It never holds the key store: a data key destroyed by an
erasure is gone from every backup taken before it too. A restore puts the database back, brings
its schema up to this release, then erases again everyone the ledger records after the backup's
position, so nothing of them is readable in the restored copy either.
"""

import json
import os
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from backgroundmusic.core import clock
from backgroundmusic.privacy.kernel.ledger import (
    LedgerEntry,
    erasure_ledger_after,
    erasure_ledger_position,
)
from backgroundmusic.privacy.rights.erasure import erasure_replay

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
REPLAY_REASON = "restore: erased after the backup"
MAIN_ALIAS = "default"


class BackupError(Exception):
    """A backup could not be written, or a folder is not a backup this service may restore."""


@dataclass(frozen=True)
class BackupManifest:
    taken_at: datetime
    engine: str
    ledger_position: int
    database_file: str

    def as_json(self) -> dict[str, Any]:
        return {
            "version": MANIFEST_VERSION,
            "taken_at": self.taken_at.isoformat(),
            "engine": self.engine,
            "ledger_position": self.ledger_position,
            "database_file": self.database_file,
        }


@dataclass(frozen=True)
class RestoreReport:
    manifest: BackupManifest
    replayed: list[LedgerEntry]


def _main() -> BaseDatabaseWrapper:
    connection = connections[MAIN_ALIAS]
    if connection.vendor not in DATABASE_FILES:
        raise BackupError(f"backups of a {connection.vendor} database are not supported")
    return connection


def backup_create(*, directory: Path | None = None) -> tuple[Path, BackupManifest]:
    """Writes a backup of the main database into a new folder under directory (default
    settings.BACKUP_DIR) and returns the folder and its manifest."""
    main = _main()
    # Read before the copy starts: an erasure that begins during the copy is after this position,
    # so a restore of this backup replays it, whatever the copy caught of it.
    position = erasure_ledger_position()
    taken_at = clock.now()
    folder = Path(directory or settings.BACKUP_DIR) / taken_at.strftime("%Y%m%dT%H%M%S%fZ")
    folder.mkdir(mode=0o700, parents=True)
    manifest = BackupManifest(
        taken_at=taken_at,
        engine=main.vendor,
        ledger_position=position,
        database_file=DATABASE_FILES[main.vendor],
    )
    target = folder / manifest.database_file
    if main.vendor == "sqlite":
        _sqlite_copy(main, target)
    else:
        _postgresql_run(main, ["pg_dump", "--format=custom", "--no-owner", f"--file={target}"])
    target.chmod(0o600)
    manifest_path = folder / MANIFEST_NAME
    manifest_path.write_text(json.dumps(manifest.as_json(), indent=2) + "\n")
    manifest_path.chmod(0o600)
    return folder, manifest


def _sqlite_copy(main: BaseDatabaseWrapper, target: Path) -> None:
    main.ensure_connection()
    copy = sqlite3.connect(target)
    try:
        main.connection.backup(copy)
    finally:
        copy.close()


def _postgresql_run(main: BaseDatabaseWrapper, command: list[str]) -> None:
    """Runs a PostgreSQL client program against the main database; the connection settings go in
    its environment (the password never on a command line)."""
    params = main.settings_dict
    environment = {
        **os.environ,
        "PGDATABASE": str(params["NAME"]),
        "PGHOST": str(params.get("HOST") or ""),
        "PGPORT": str(params.get("PORT") or ""),
        "PGUSER": str(params.get("USER") or ""),
        "PGPASSWORD": str(params.get("PASSWORD") or ""),
    }
    environment = {name: value for name, value in environment.items() if value}
    try:
        subprocess.run(  # noqa: S603 - a fixed program, arguments of our own
            command, env=environment, check=True, capture_output=True, text=True
        )
    except FileNotFoundError as exc:
        raise BackupError(
            f"{command[0]} is missing: install Debian's postgresql-client (make pg-deps)"
        ) from exc
    except subprocess.CalledProcessError as exc:
        raise BackupError(f"{command[0]} failed: {exc.stderr.strip()}") from exc


def backup_manifest_read(*, folder: Path) -> BackupManifest:
    """The manifest of a backup folder, checked: a backup of this engine, its file present,
    not older than settings.BACKUP_MAX_AGE_DAYS (the erasure ledger may have let go of the
    erasures made since), and not newer than the ledger (a key store restored from an older
    copy has lost entries a replay would need)."""
    try:
        data = json.loads((folder / MANIFEST_NAME).read_text())
        manifest = BackupManifest(
            taken_at=datetime.fromisoformat(data["taken_at"]),
            engine=str(data["engine"]),
            ledger_position=int(data["ledger_position"]),
            database_file=str(data["database_file"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{folder} is not a backup: {MANIFEST_NAME} unreadable ({exc})") from exc
    main = _main()
    if manifest.engine != main.vendor or manifest.database_file != DATABASE_FILES[main.vendor]:
        raise BackupError(
            f"{folder} is a backup of a {manifest.engine} database; this one is {main.vendor}"
        )
    if not (folder / manifest.database_file).is_file():
        raise BackupError(f"{folder} has no {manifest.database_file}")
    oldest = clock.now() - timedelta(days=settings.BACKUP_MAX_AGE_DAYS)
    if manifest.taken_at < oldest:
        raise BackupError(
            f"{folder} was taken on {manifest.taken_at:%Y-%m-%d}, more than "
            f"{settings.BACKUP_MAX_AGE_DAYS} days ago: the erasure ledger no longer holds every "
            "erasure made since, so restoring it could bring erased people back"
        )
    if manifest.ledger_position > erasure_ledger_position():
        raise BackupError(
            f"{folder} names erasure ledger position {manifest.ledger_position}, beyond the "
            "ledger's end: the key store has lost entries and the replay would be incomplete"
        )
    return manifest


def database_restore(*, folder: Path) -> BackupManifest:
    """Puts the main database back as the backup holds it, and nothing more: no schema upgrade,
    no replay (backup_restore does the whole procedure)."""
    manifest = backup_manifest_read(folder=folder)
    main = _main()
    source = folder / manifest.database_file
    if main.vendor == "sqlite":
        main.ensure_connection()
        backup = sqlite3.connect(source)
        try:
            backup.backup(main.connection)
        finally:
            backup.close()
    else:
        main.close()
        _postgresql_run(
            main,
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                f"--dbname={main.settings_dict['NAME']}",
                str(source),
            ],
        )
    main.close()
    ContentType.objects.clear_cache()
    return manifest


def backup_restore(*, folder: Path) -> RestoreReport:
    """Restores the backup, migrates it to this release, then erases again, in ledger order,
    every person whose erasure the ledger records after the backup's position."""
    manifest = database_restore(folder=folder)
    call_command("migrate", database=MAIN_ALIAS, interactive=False, verbosity=0)
    replayed = erasure_ledger_after(position=manifest.ledger_position)
    for entry in replayed:
        erasure_replay(subject_id=entry.subject_id, reason=REPLAY_REASON)
    return RestoreReport(manifest=manifest, replayed=replayed)
