"""Walks the staff access log's hash chain; exits non-zero naming the first broken entry."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from backgroundmusic.privacy.kernel.access_log import access_log_verify


class Command(BaseCommand):
    help = "Verify the hash chain of the staff access log"

    def handle(self, *args: Any, **options: Any) -> None:
        report = access_log_verify()
        if not report.intact:
            raise CommandError(
                f"access log broken at entry #{report.broken_entry_id}: {report.problem} "
                f"({report.entries} entries before it verified)"
            )
        self.stdout.write(f"access log intact: {report.entries} entries")
        if report.starts_after_entry:
            self.stdout.write(
                f"starts after entry #{report.starts_after_entry} "
                "(older entries removed by retention, checkpoint verified)"
            )
        self.stdout.write(f"head: {report.head}")
