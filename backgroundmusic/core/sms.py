"""Text messages, in the shape of django.core.mail: `send_sms(to=, body=)` hands one message to
the backend named by the setting SMS_BACKEND (a dotted path).

Two backends, and no provider's: the embedded default, `FileSmsBackend`, writes one file per
message under SMS_FILE_PATH (var/sms/), as Django's file e-mail backend writes var/mail/; tests
use `LocmemSmsBackend`, which keeps the messages in the module-level `outbox`. A provider's
backend, when the service needs one, is another class with `send_messages`.

The erasure removes a person's messages from the files (privacy/rights/handlers.py), and the
retention run removes every message past its period.
"""

import os
import re
import secrets
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string

from backgroundmusic.core import clock
from backgroundmusic.core.text import TextKind, text_refusal

DEFAULT_BACKEND = "backgroundmusic.core.sms.FileSmsBackend"
E164 = re.compile(r"\+[1-9][0-9]{1,14}")
# Ten concatenated parts of a GSM message: more is a letter, not a text message.
MAX_BODY_LENGTH = 1530
FILE_SUFFIX = ".sms"
FILE_TIME_FORMAT = "%Y%m%d-%H%M%S-%f"  # 22 characters


@dataclass(frozen=True)
class SmsMessage:
    to: str
    body: str


class BaseSmsBackend:
    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        """Sends the messages; returns how many were sent."""
        raise NotImplementedError


def sms_file_path() -> Path:
    configured = getattr(settings, "SMS_FILE_PATH", "")
    return Path(configured) if configured else Path(settings.VAR_DIR) / "sms"


def sms_file_text(message: SmsMessage, *, at: datetime) -> str:
    return f"To: {message.to}\nDate: {at.isoformat()}\n\n{message.body}\n"


def _file_message(path: Path) -> SmsMessage | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    head, separator, body = text.partition("\n\n")
    to = head.split("\n", 1)[0]
    if not separator or not to.startswith("To: "):
        return None
    return SmsMessage(to=to.removeprefix("To: "), body=body.removesuffix("\n"))


def sms_file_messages() -> Iterator[tuple[Path, SmsMessage]]:
    """Every message file FileSmsBackend wrote under SMS_FILE_PATH, oldest first, read back."""
    folder = sms_file_path()
    if not folder.is_dir():
        return
    for path in sorted(folder.glob(f"*{FILE_SUFFIX}")):
        message = _file_message(path)
        if message is not None:
            yield path, message


def sms_file_written_at(path: Path) -> datetime | None:
    """When FileSmsBackend wrote a message file, from its name (UTC); None for another name."""
    try:
        return datetime.strptime(path.name[:22], FILE_TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


class FileSmsBackend(BaseSmsBackend):
    """One file per message, `<UTC time>-<random>.sms`, readable by the owner only; written
    under a temporary name and renamed, so a reader never sees half a message."""

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        folder = sms_file_path()
        folder.mkdir(parents=True, exist_ok=True)
        for message in messages:
            at = clock.now()
            name = f"{at.astimezone(UTC):{FILE_TIME_FORMAT}}-{secrets.token_hex(4)}{FILE_SUFFIX}"
            with tempfile.NamedTemporaryFile(
                "w", encoding="utf-8", dir=folder, prefix=".", delete=False
            ) as handle:
                handle.write(sms_file_text(message, at=at))
            os.replace(handle.name, folder / name)
        return len(messages)


outbox: list[SmsMessage] = []


class LocmemSmsBackend(BaseSmsBackend):
    """For tests: the messages go to `outbox`, which the test settings empty before each test."""

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        outbox.extend(messages)
        return len(messages)


def get_sms_backend() -> BaseSmsBackend:
    backend: type[BaseSmsBackend] = import_string(
        getattr(settings, "SMS_BACKEND", "") or DEFAULT_BACKEND
    )
    return backend()


def send_sms(*, to: str, body: str) -> None:
    """Sends one text message to an E.164 number. Raises ValueError for another form of number
    or an empty, too long or unstorable body: callers pass what they checked."""
    if not E164.fullmatch(to):
        raise ValueError("a text message goes to a number in E.164 form")
    if not body.strip() or len(body) > MAX_BODY_LENGTH:
        raise ValueError(f"a text message has 1 to {MAX_BODY_LENGTH} characters")
    refusal = text_refusal(body, TextKind.TEXT)
    if refusal is not None:
        raise ValueError(refusal.message)
    get_sms_backend().send_messages([SmsMessage(to=to, body=body)])
