"""Letters as they arrive, built byte by byte (the tests need control over every header)."""

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.conf import settings

from backgroundmusic.core import clock
from backgroundmusic.mailing.rendering import DELIVERY_TAG_HEADER
from backgroundmusic.privacy.kernel.pseudonyms import delivery_tag


def letter(
    *,
    sender: str,
    to: str | None = None,
    subject: str = "Hello",
    body: str = "Please help.",
    headers: dict[str, str] | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to or settings.PRIVACY_ADDRESS
    message["Subject"] = subject
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = make_msgid(domain="example.com")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return message.as_bytes()


def delivery_report(
    *,
    failed: str,
    status: str = "5.1.1",
    action: str = "failed",
    tag_of: str | None = "",
    returned_as: str = "text/rfc822-headers",
) -> bytes:
    """An RFC 3464 report about one recipient, as a mail server sends to the bounce address, with
    the original headers returned as `returned_as` carrying the delivery tag our newsletter to
    `tag_of` would carry (the failed address by default; None returns no original headers)."""
    returned = ""
    if tag_of is not None:
        headers = (
            f"From: {settings.MARKETING_FROM_EMAIL}\r\n"
            f"To: {failed}\r\n"
            "Subject: News\r\n"
            f"{DELIVERY_TAG_HEADER}: {delivery_tag(address=tag_of or failed)}\r\n"
        )
        body = "\r\nHello\r\n" if returned_as == "message/rfc822" else ""
        returned = f"--B\r\nContent-Type: {returned_as}\r\n\r\n{headers}{body}"
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
        f"To: {settings.BOUNCE_ADDRESS}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Auto-Submitted: auto-replied\r\n"
        f"Message-ID: {make_msgid(domain='mx.example.net')}\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n'
        "\r\n"
        "--B\r\n"
        "Content-Type: text/plain\r\n"
        "\r\n"
        "Your message could not be delivered.\r\n"
        "--B\r\n"
        "Content-Type: message/delivery-status\r\n"
        "\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n"
        "\r\n"
        f"Final-Recipient: rfc822; {failed}\r\n"
        f"Action: {action}\r\n"
        f"Status: {status}\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n"
        "\r\n"
        f"{returned}"
        "--B--\r\n"
    ).encode()
