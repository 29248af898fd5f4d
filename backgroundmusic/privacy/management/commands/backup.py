"""Writes a backup of the main database, never the key store (privacy/backups.py)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backgroundmusic.privacy.backups import BackupError, backup_create


class Command(BaseCommand):
    help = "Back up the main database (not the key store) into a new folder under BACKUP_DIR"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--to", type=Path, default=None, help="write under this folder instead of BACKUP_DIR"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            folder, manifest = backup_create(directory=options["to"])
        except (BackupError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Backed up the {manifest.engine} database to {folder} "
            f"(erasure ledger position {manifest.ledger_position})."
        )
