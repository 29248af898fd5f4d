"""The aiosmtpd server of the cross-app tests (tests/conftest.py), for the sending tests here."""

from tests.conftest import smtp_server

__all__ = ["smtp_server"]
