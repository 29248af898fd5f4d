"""Reads the configured mailbox once (what the recurring job read_inbox does every minute)."""

from typing import Any

from django.core.management.base import BaseCommand

from backgroundmusic.inbox.readers import inbox_read


class Command(BaseCommand):
    help = "Read the service's mailbox once (INBOX_READER) and act on each new letter"

    def handle(self, *args: Any, **options: Any) -> None:
        count = inbox_read()
        self.stdout.write(f"{count} letter(s) read")
