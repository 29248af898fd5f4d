from collections.abc import Iterator

import pytest

from backgroundmusic.inbox.tests.dovecot import Dovecot, dovecot_running
from tests.destinations import declare_destination


@pytest.fixture
def dovecot(settings) -> Iterator[Dovecot]:
    """A dovecot IMAP server of this test, and the inbox configured to read it."""
    with dovecot_running() as server:
        settings.INBOX_READER = "imap"
        settings.INBOX_IMAP_URL = server.url
        declare_destination(settings, host=server.host, port=server.port, purpose="mailbox")
        yield server
