"""Declaring the tests' own local services as outbound destinations: the test configuration
declares each one it starts (the SMTP server, the S3 and YooKassa doubles, dovecot), as an
operator declares a real one; nothing is exempted (decision 0031)."""

from typing import Any


def declare_destination(
    settings: Any,
    *,
    host: str | None,
    port: int | None,
    purpose: str,
    recipient: str = "Test double on this machine",
    country: str = "RU",
    basis: str = "contract",
) -> None:
    """Adds one destination to OUTBOUND_DESTINATIONS for this test (the `settings` fixture
    restores the list afterwards)."""
    settings.OUTBOUND_DESTINATIONS = [
        *settings.OUTBOUND_DESTINATIONS,
        {
            "host": host or "",
            "port": port,
            "purpose": purpose,
            "recipient": recipient,
            "country": country,
            "basis": basis,
        },
    ]


def use_smtp(settings: Any, *, host: str, port: int, declare: bool = True) -> None:
    """Django's SMTP backend behind the guard, pointed at host:port (declared unless told not)."""
    settings.EMAIL_BACKEND = "backgroundmusic.core.mail.GuardedEmailBackend"
    settings.EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = host
    settings.EMAIL_PORT = port
    if declare:
        declare_destination(settings, host=host, port=port, purpose="mail")
