from collections.abc import Iterator

import pytest

from backgroundmusic.inbox.tests.dovecot import Dovecot, dovecot_running


@pytest.fixture
def dovecot(settings) -> Iterator[Dovecot]:
    """A dovecot IMAP server of this test, and the inbox configured to read it."""
    with dovecot_running() as server:
        settings.INBOX_READER = "imap"
        settings.INBOX_IMAP_URL = server.url
        yield server
