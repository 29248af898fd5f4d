"""Reading a letter from outside: one function, `letter_parse`, that either returns what the
inbox needs (sender, our addresses it was sent to, subject and text, whether it is an automatic
reply or a delivery report) or raises LetterRejected with a code. Whatever the bytes are
(malformed MIME, unknown charsets, NUL, bidi controls, folded or injected headers, a huge body),
nothing else escapes: the inbox records the rejection and goes on with the next letter.
"""

import email.policy
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses

from django.utils.html import strip_tags

from backgroundmusic.core.text import TextKind, text_refusal
from backgroundmusic.privacy.models import RequestKind

# An address we answer or look up: plain ASCII addr-spec, no quoting, no comments, at most 254
# characters (RFC 5321's limit on a path). Anything else is not an address we act on.
ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251})")
ADDRESS_MAX_LENGTH = 254
# What classification reads of the text: requests say what they want early.
CLASSIFIED_CHARACTERS = 20_000
AUTO_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
RECIPIENT_HEADERS = ("Delivered-To", "X-Original-To", "To", "Cc")


class LetterRejected(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Letter:
    message: EmailMessage
    sender: str  # lower-case addr-spec
    recipients: tuple[str, ...]  # lower-case addr-specs from the recipient headers
    subject: str
    text: str
    auto_reply: bool
    delivery_report: bool


def address_normal(value: str) -> str | None:
    """The address in lower case, or None when it is not a plain address we would act on."""
    value = value.strip()
    if len(value) > ADDRESS_MAX_LENGTH or not ADDRESS.fullmatch(value):
        return None
    return value.lower()


def local_part_base(address: str) -> str:
    """user+tag@host → user@host: a tagged copy of one of our addresses is that address."""
    local, _, domain = address.partition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def _header(message: EmailMessage, name: str) -> str:
    values = message.get_all(name) or []
    text = " ".join(str(value) for value in values)
    refusal = text_refusal(text, TextKind.LINE)
    if refusal is not None:
        raise LetterRejected(refusal.code or "unsafe_text")
    return text


def _sender(message: EmailMessage) -> str:
    froms = message.get_all("From") or []
    if len(froms) != 1:
        raise LetterRejected("bad_sender")
    _header(message, "From")
    addresses = [address for _name, address in getaddresses([str(froms[0])])]
    if len(addresses) != 1:
        raise LetterRejected("bad_sender")
    sender = address_normal(addresses[0])
    if sender is None:
        raise LetterRejected("bad_sender")
    return sender


def _recipients(message: EmailMessage) -> tuple[str, ...]:
    found: list[str] = []
    for name in RECIPIENT_HEADERS:
        for _name, address in getaddresses([str(v) for v in message.get_all(name) or []]):
            normal = address_normal(address)
            if normal is not None and normal not in found:
                found.append(normal)
    return tuple(found)


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()  # type: ignore[attr-defined]
    if not isinstance(content, str):
        raise LetterRejected("not_text")
    if part.get_content_subtype() == "html":
        content = strip_tags(content)
    refusal = text_refusal(content, TextKind.TEXT)
    if refusal is not None:
        raise LetterRejected(refusal.code or "unsafe_text")
    return content


def _auto_reply(message: EmailMessage) -> bool:
    """RFC 3834: anything but "Auto-Submitted: no" is automatic; so are the Precedence values
    bulk mail and autoresponders use, and the headers Microsoft's and others' responders add."""
    auto_submitted = str(message.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    return (
        auto_submitted != "no"
        or precedence in AUTO_PRECEDENCE
        or "X-Autoreply" in message
        or "X-Autorespond" in message
        or str(message.get("X-Auto-Response-Suppress", "")).strip() != ""
    )


def _delivery_report(message: EmailMessage) -> bool:
    return (
        message.get_content_type() == "multipart/report"
        and str(message.get_param("report-type", "")).lower() == "delivery-status"
    )


def letter_parse(raw: bytes, *, max_bytes: int) -> Letter:
    """The letter in `raw`, or LetterRejected (too_large, malformed, bad_sender, not_text, or a
    text rule's code such as nul or bidi_control)."""
    if len(raw) > max_bytes:
        raise LetterRejected("too_large")
    if b"\x00" in raw:
        raise LetterRejected("nul")
    try:
        message = BytesParser(policy=email.policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        if not message.keys():
            raise LetterRejected("malformed")
        report = _delivery_report(message)
        sender = "" if report else _sender(message)
        return Letter(
            message=message,
            sender=sender,
            recipients=_recipients(message),
            subject=_header(message, "Subject"),
            text="" if report else _text(message),
            auto_reply=_auto_reply(message),
            delivery_report=report,
        )
    except LetterRejected:
        raise
    except Exception as exc:
        # The standard library's parser has many ways to fail on hostile input (LookupError for
        # an unknown charset, UnicodeError, IndexError and ValueError on broken headers); for
        # us each is one answer.
        raise LetterRejected("malformed") from exc


def message_id_of(raw: bytes) -> str:
    """The Message-ID as written in the header block, without parsing the rest; "" if none."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    found = re.search(rb"(?im)^message-id:[ \t]*(.*(?:\r?\n[ \t].*)*)", head)
    if found is None:
        return ""
    return re.sub(rb"\s+", b"", found.group(1)).decode("latin-1")[:998]


# Words that say what a letter asks, in English and Russian, lower case; matched as word
# beginnings so "delete", "deletion" and "удалить", "удалите", "удаление" all count. The first
# kind whose words appear wins, in this order: asking to delete outweighs asking for a copy.
KIND_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        RequestKind.ERASURE,
        (
            "delet",
            "eras",
            "remove my",
            "forget me",
            "close my account",
            "удал",
            "стереть",
            "сотрит",
            "забуд",
            "закрыть аккаунт",
            "закройте",
        ),
    ),
    (
        RequestKind.RECTIFICATION,
        (
            "correct",
            "rectif",
            "update my",
            "change my",
            "wrong",
            "исправ",
            "измени",
            "уточн",
            "неверн",
            "ошибк",
        ),
    ),
    (
        RequestKind.RESTRICTION,
        ("restrict", "stop processing", "огранич", "прекрат"),
    ),
    (
        RequestKind.ACCESS,
        (
            "access",
            "copy of",
            "what data",
            "what personal data",
            "export",
            "доступ",
            "копи",
            "какие данные",
            "какие персональные",
            "выгруз",
            "предостав",
        ),
    ),
)
WORD_START = r"(?<![\w])"


def letter_kind(*, subject: str, text: str) -> str:
    """The kind of request a letter makes, from its subject first, then its text; OTHER when
    no word says (staff then read it)."""
    for source in (subject, text[:CLASSIFIED_CHARACTERS]):
        lowered = source.lower()
        for kind, words in KIND_WORDS:
            if any(re.search(WORD_START + re.escape(word), lowered) for word in words):
                return str(kind)
    return str(RequestKind.OTHER)
