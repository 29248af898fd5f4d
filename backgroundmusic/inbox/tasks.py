"""Jobs of the inbox: thin, take ids, safe to run again after a kill."""

from django_tasks import task

from backgroundmusic.inbox import mail, readers


@task()
def read_inbox() -> int:
    """Reads the configured mailbox once (every minute, recurring.py); returns how many letters
    were recorded. A letter is marked read only after its record commits."""
    return readers.inbox_read()


@task()
def send_request_confirmation(message_id: int) -> str:
    """Sends the link confirming a request to the account's verified address, once."""
    return mail.request_confirmation_send(message_id=message_id)
