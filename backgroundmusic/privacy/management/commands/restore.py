"""Restores a backup of the main database, then replays the erasure ledger (privacy/backups.py)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backgroundmusic.privacy.backups import BackupError, backup_manifest_read, backup_restore


class Command(BaseCommand):
    help = (
        "Replace the main database with a backup, then erase again everyone the erasure ledger "
        "records after the backup was taken. Stop the app servers and workers first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("backup", type=Path, help="the backup's folder")
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="do not ask for confirmation",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        folder: Path = options["backup"]
        try:
            manifest = backup_manifest_read(folder=folder)
            if options["interactive"]:
                taken = f"{manifest.taken_at:%Y-%m-%d %H:%M} UTC"
                answer = input(
                    f"Replace the main database with the backup of {taken}? Everything written "
                    "since is lost. Type 'yes' to continue: "
                )
                if answer != "yes":
                    raise CommandError("Restore cancelled; nothing changed.")
            report = backup_restore(folder=folder)
        except (BackupError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Restored the backup of {report.manifest.taken_at:%Y-%m-%d %H:%M:%S} UTC "
            f"(erasure ledger position {report.manifest.ledger_position})."
        )
        self.stdout.write(
            f"Replayed {len(report.replayed)} erasure(s) recorded after the backup"
            + (":" if report.replayed else ".")
        )
        for entry in report.replayed:
            self.stdout.write(
                f"  ledger #{entry.position}: user #{entry.subject_id}, erasure asked for "
                f"{entry.recorded_at:%Y-%m-%d %H:%M:%S} UTC, erased again"
            )
