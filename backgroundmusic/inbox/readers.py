"""Readers of the service's mailboxes, one interface: `read(record)` hands each new letter's
bytes and arrival time to `record` and marks the letter read only after `record` returned (its
row committed), so a crash between the two brings the letter again and `inbound_record` finds
its first record. Which reader runs is the setting INBOX_READER (docs/operations.md):
- "maildir": MaildirReader, a local Maildir folder (INBOX_MAILDIR, var/inbox/ by default), so
  the embedded install needs no mail server: letters are files dropped into new/;
- "imap": ImapReader, a mailbox on an IMAP server (INBOX_IMAP_URL): unseen letters, marked
  \\Seen once recorded;
- "webhook": a provider posts each letter to its django-anymail inbound webhook (webhooks.py);
  there is nothing to read.
"""

import contextlib
import imaplib
import os
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from backgroundmusic.core import clock
from backgroundmusic.core.destinations import Purpose, destination_require
from backgroundmusic.inbox.services import inbound_record

Record = Callable[[bytes, datetime], object]


class MailboxReader(Protocol):
    def read(self, record: Record) -> int:
        """Hands every new letter to `record`, marking each read after it; returns how many."""


@dataclass(frozen=True)
class MaildirReader:
    """A Maildir folder (new/, cur/, tmp/): each file in new/ is one letter; once recorded it
    moves to cur/ with the Seen flag (the Maildir way of marking it read)."""

    path: Path

    def read(self, record: Record) -> int:
        new, cur = self.path / "new", self.path / "cur"
        for folder in (new, cur, self.path / "tmp"):
            folder.mkdir(parents=True, exist_ok=True)
        count = 0
        for entry in sorted(os.scandir(new), key=lambda item: item.name):
            if not entry.is_file() or entry.name.startswith("."):
                continue
            arrived = datetime.fromtimestamp(entry.stat().st_mtime, tz=UTC)
            with open(entry.path, "rb") as handle:
                raw = handle.read(settings.INBOX_MAX_MESSAGE_BYTES + 1)
            record(raw, arrived)
            name = entry.name.split(":", 1)[0]
            os.replace(entry.path, cur / f"{name}:2,S")
            count += 1
        return count


@dataclass(frozen=True)
class ImapReader:
    """An IMAP mailbox: imaps:// (TLS from the start), imap://...?tls=starttls, or plain imap://
    (only for a server on this machine, as the tests' dovecot is)."""

    host: str
    port: int
    user: str
    password: str
    folder: str = "INBOX"
    security: str = "tls"  # "tls", "starttls" or "plain"
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str) -> "ImapReader":
        parts = urlsplit(url)
        if parts.scheme not in ("imap", "imaps") or not parts.hostname:
            raise ImproperlyConfigured("INBOX_IMAP_URL must look like imaps://user:pass@host/INBOX")
        query = parse_qs(parts.query)
        if parts.scheme == "imaps":
            security = "tls"
        else:
            security = "starttls" if query.get("tls") == ["starttls"] else "plain"
        return cls(
            host=parts.hostname,
            port=parts.port or (993 if security == "tls" else 143),
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            folder=unquote(parts.path.lstrip("/")) or "INBOX",
            security=security,
        )

    def _connect(self) -> imaplib.IMAP4:
        destination_require(host=self.host, port=self.port, purpose=Purpose.MAILBOX)
        if self.security == "tls":
            return imaplib.IMAP4_SSL(
                self.host, self.port, ssl_context=ssl.create_default_context(), timeout=self.timeout
            )
        connection = imaplib.IMAP4(self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            connection.starttls(ssl_context=ssl.create_default_context())
        return connection

    def read(self, record: Record) -> int:
        connection = self._connect()
        try:
            connection.login(self.user, self.password)
            status, _ = connection.select(_quoted(self.folder))
            if status != "OK":
                raise imaplib.IMAP4.error(f"cannot select {self.folder!r}")
            _, found = connection.uid("SEARCH", "UNSEEN")
            uids = [uid.decode() for uid in found[0].split()] if found and found[0] else []
            for uid in uids:
                raw, arrived = self._fetch(connection, uid)
                record(raw, arrived)
                connection.uid("STORE", uid, "+FLAGS.SILENT", r"(\Seen)")
            return len(uids)
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                connection.logout()

    def _fetch(self, connection: imaplib.IMAP4, uid: str) -> tuple[bytes, datetime]:
        # BODY.PEEK leaves the letter unseen until it is recorded; at most one byte more than
        # the limit is fetched, which is enough to tell that a letter is too large.
        limit = settings.INBOX_MAX_MESSAGE_BYTES + 1
        _, data = connection.uid("FETCH", uid, f"(INTERNALDATE BODY.PEEK[]<0.{limit}>)")
        for item in data:
            if isinstance(item, tuple):
                # Internaldate2tuple gives local time; mktime turns it back into an instant.
                parsed = imaplib.Internaldate2tuple(item[0])
                arrived = (
                    datetime.fromtimestamp(time.mktime(parsed), tz=UTC)
                    if parsed is not None
                    else clock.now()
                )
                return bytes(item[1]), arrived
        raise imaplib.IMAP4.error(f"no body for UID {uid!r}")


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def reader_configured() -> MailboxReader | None:
    """The reader INBOX_READER names; None for "webhook" (a provider posts instead)."""
    kind = settings.INBOX_READER
    if kind == "maildir":
        return MaildirReader(Path(settings.INBOX_MAILDIR))
    if kind == "imap":
        if not settings.INBOX_IMAP_URL:
            raise ImproperlyConfigured("INBOX_READER=imap needs INBOX_IMAP_URL")
        return ImapReader.from_url(settings.INBOX_IMAP_URL)
    if kind == "webhook":
        return None
    raise ImproperlyConfigured(f"INBOX_READER must be maildir, imap or webhook, not {kind!r}")


def inbox_read() -> int:
    """Reads the configured mailbox once; returns how many letters were handed over."""
    reader = reader_configured()
    if reader is None:
        return 0
    return reader.read(lambda raw, arrived: inbound_record(raw=raw, received_at=arrived))
