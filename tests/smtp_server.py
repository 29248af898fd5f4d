"""A real SMTP server that Django sends to (aiosmtpd), for every test: the fixture `smtp_server`,
a root conftest plugin."""

import email
import email.policy
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.destinations import use_smtp

# aiosmtpd logs every SMTP command at INFO; the test output needs none of it.
logging.getLogger("mail.log").setLevel(logging.WARNING)

LINK = re.compile(r"https?://[^\s<>\"']+")


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the SMTP server received it."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None, "the message has no text/plain part"
        return str(part.get_content())  # type: ignore[attr-defined]

    @property
    def links(self) -> list[str]:
        return LINK.findall(self.text)


@dataclass
class _StoringHandler:
    received: list[ReceivedMail] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.arrived:
            self.received.append(
                ReceivedMail(
                    mail_from=str(envelope.mail_from),
                    rcpt_tos=list(envelope.rcpt_tos),
                    message=message,
                )
            )
            self.arrived.notify_all()
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, handler: _StoringHandler, host: str, port: int) -> None:
        self._handler = handler
        self.host = host
        self.port = port

    @property
    def messages(self) -> list[ReceivedMail]:
        with self._handler.arrived:
            return list(self._handler.received)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedMail]:
        """All messages once at least `count` have arrived; fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._handler.arrived:
            while len(self._handler.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    pytest.fail(
                        f"expected {count} e-mail(s) at {self.host}:{self.port}, "
                        f"got {len(self._handler.received)} in {timeout:.0f} s"
                    )
                self._handler.arrived.wait(left)
            return list(self._handler.received)


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server(settings) -> Iterator[SmtpServer]:
    """An aiosmtpd server on a free local port, declared as an outbound destination, with
    Django's SMTP backend (behind core/mail.py's guard) pointed at it.

    pytest-django switches e-mail to the locmem backend in setup_test_environment() (session
    scope); the `settings` fixture applies our override later, per test, and undoes it after.
    Settings are process-wide, so the live server's thread sends here too.
    """
    host = "127.0.0.1"
    handler = _StoringHandler()
    controller = None
    for _attempt in range(5):
        # Another process may take the probed port before we bind it: try a fresh one then.
        candidate = Controller(handler, hostname=host, port=free_port(host), ready_timeout=10)
        try:
            candidate.start()
        except (OSError, RuntimeError):
            candidate.loop.close()
            continue
        controller = candidate
        break
    if controller is None:
        pytest.fail(f"could not start the test SMTP server on {host}")
    use_smtp(settings, host=host, port=controller.port)
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    try:
        yield SmtpServer(handler, host, controller.port)
    finally:
        controller.stop()
