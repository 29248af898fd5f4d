"""The letter parser against hostile input: every answer is a Letter or a LetterRejected."""

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from backgroundmusic.core import clock
from backgroundmusic.inbox.bounces import delivery_failures, hard_bounce_addresses
from backgroundmusic.inbox.models import InboundMessage, Outcome
from backgroundmusic.inbox.parsing import Letter, LetterRejected, letter_kind, letter_parse
from backgroundmusic.inbox.services import inbound_record
from backgroundmusic.inbox.tests.letters import delivery_report, letter
from backgroundmusic.privacy.models import RequestKind

LIMIT = 64 * 1024

HEADER_LINES = st.sampled_from(
    [
        b"From: a@example.com",
        b"From: =?utf-8?b?0JDQvdC90LA=?= <anna@example.com>",
        b"From: <>",
        b"From: a@example.com, b@example.com",
        b'From: "a@example.com\r\nBcc: victim@example.com" <x@y>',
        b"To: privacy@backgroundmusic.net",
        b"Subject: =?x-unknown?q?hi?=",
        b"Subject: =?utf-8?b?////?=",
        b"Subject: \xe2\x80\xaedelete",
        b"Content-Type: text/plain; charset=x-no-such-charset",
        b"Content-Type: multipart/mixed; boundary=",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=b",
        b"Content-Transfer-Encoding: base64",
        b"Content-Transfer-Encoding: quoted-printable",
        b"Message-ID: <a@b>",
        b"Auto-Submitted: no",
        b" folded continuation",
    ]
)


@st.composite
def hostile_letters(draw) -> bytes:
    lines = draw(st.lists(st.one_of(HEADER_LINES, st.binary(max_size=80)), max_size=12))
    separator = draw(st.sampled_from([b"\r\n", b"\n", b"\r"]))
    body = draw(st.binary(max_size=400))
    return separator.join(lines) + separator + separator + body


@hypothesis_settings(max_examples=300, deadline=None)
@given(raw=st.one_of(hostile_letters(), st.binary(max_size=2000)))
def test_any_bytes_give_a_letter_or_a_rejection(raw):
    try:
        parsed = letter_parse(raw, max_bytes=LIMIT)
    except LetterRejected as rejected:
        assert rejected.code
        return
    assert isinstance(parsed, Letter)
    assert "\x00" not in parsed.subject + parsed.text + parsed.sender
    letter_kind(subject=parsed.subject, text=parsed.text)
    if parsed.delivery_report:
        hard_bounce_addresses(parsed.message)


@pytest.mark.django_db
@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=hostile_letters())
def test_any_bytes_are_recorded_never_a_crash(raw):
    recorded = inbound_record(raw=raw, received_at=clock.now())
    assert InboundMessage.objects.filter(pk=recorded.pk).exists()


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (letter(sender="a@example.com") + b"x" * LIMIT, "too_large"),
        (letter(sender="a@example.com", body="nul \x00 inside"), "nul"),
        (letter(sender="a@example.com", subject="\u202eetaled"), "bidi_control"),
        (letter(sender="a@example.com", body="see \u2066this\u2069"), "bidi_control"),
        (letter(sender="not an address"), "bad_sender"),
        (b"From: a@example.com\r\nFrom: b@example.com\r\n\r\nhi", "bad_sender"),
        (
            b"From: a@example.com\r\nContent-Type: text/plain; charset=x-no-such\r\n\r\nhi",
            "malformed",
        ),
        (b"", "malformed"),
        (b"\xff\xfe\xfd", "malformed"),
    ],
)
def test_hostile_letters_are_rejected_with_a_code(raw, code):
    with pytest.raises(LetterRejected) as rejected:
        letter_parse(raw, max_bytes=LIMIT)
    assert rejected.value.code == code


@pytest.mark.django_db
def test_a_rejected_letter_is_recorded_with_why_and_nothing_is_done():
    raw = letter(sender="a@example.com", subject="\u202eetaled ym eteleD")
    recorded = inbound_record(raw=raw, received_at=clock.now())
    assert (recorded.outcome, recorded.rejection, recorded.request_id) == (
        Outcome.REJECTED_MALFORMED,
        "bidi_control",
        None,
    )


def test_an_injected_header_in_the_sender_name_does_not_add_a_recipient():
    raw = b'From: "x\r\nBcc: victim@example.com" <a@example.com>\r\nTo: b@example.com\r\n\r\nhi'
    try:
        parsed = letter_parse(raw, max_bytes=LIMIT)
    except LetterRejected:
        return
    assert "victim@example.com" not in parsed.recipients


def test_encoded_words_and_charsets_are_read():
    raw = (
        b"From: =?utf-8?b?0JDQvdC90LA=?= <anna@example.com>\r\n"
        b"To: privacy@backgroundmusic.net\r\n"
        b"Subject: =?koi8-r?b?8MXSxcTB3sEg0MXS08/OwczYztnIIMTBzs7ZyA==?=\r\n"
        b"Content-Type: text/plain; charset=windows-1251\r\n"
        b"\r\n"
    ) + "Прошу удалить мой аккаунт.".encode("windows-1251")
    parsed = letter_parse(raw, max_bytes=LIMIT)
    assert parsed.sender == "anna@example.com"
    assert parsed.subject == "Передача персональных данных"
    assert letter_kind(subject=parsed.subject, text=parsed.text) == RequestKind.ERASURE


@pytest.mark.parametrize(
    ("subject", "text", "kind"),
    [
        ("Please delete my account", "", RequestKind.ERASURE),
        ("", "I want you to erase all my data.", RequestKind.ERASURE),
        ("Удаление данных", "", RequestKind.ERASURE),
        ("", "Прошу удалить мои персональные данные", RequestKind.ERASURE),
        ("Correction", "My name is spelled wrong", RequestKind.RECTIFICATION),
        ("", "Прошу исправить мою фамилию", RequestKind.RECTIFICATION),
        ("Access request", "", RequestKind.ACCESS),
        ("", "Please send me a copy of my data", RequestKind.ACCESS),
        ("", "Какие данные вы обо мне храните?", RequestKind.ACCESS),
        ("", "Прошу ограничить обработку", RequestKind.RESTRICTION),
        ("Hello", "Do you have a discount for schools?", RequestKind.OTHER),
        # The subject says it first, whatever the text says.
        ("Delete my account", "and please send a copy first", RequestKind.ERASURE),
    ],
)
def test_the_kind_of_request_comes_from_words_in_english_and_russian(subject, text, kind):
    assert letter_kind(subject=subject, text=text) == kind


def test_hard_bounces_are_permanent_failures_only():
    hard = letter_parse(delivery_report(failed="Gone@Example.com"), max_bytes=LIMIT)
    assert hard.delivery_report
    assert hard_bounce_addresses(hard.message) == ["gone@example.com"]
    soft = letter_parse(
        delivery_report(failed="full@example.com", status="4.2.2", action="delayed"),
        max_bytes=LIMIT,
    )
    [failure] = delivery_failures(soft.message)
    assert (failure.address, failure.status, failure.hard) == ("full@example.com", "4.2.2", False)
    assert hard_bounce_addresses(soft.message) == []


@pytest.mark.parametrize("returned_as", ["text/rfc822-headers", "message/rfc822"])
def test_a_hard_bounce_counts_with_the_addresses_own_delivery_tag(returned_as):
    report = delivery_report(failed="gone@example.com", returned_as=returned_as)
    parsed = letter_parse(report, max_bytes=LIMIT)
    assert hard_bounce_addresses(parsed.message) == ["gone@example.com"]


@pytest.mark.parametrize(
    "report",
    [
        # Forged: anyone can write to the bounce address, but only our newsletter to the
        # address carries its tag.
        delivery_report(failed="victim@example.com", tag_of=None),
        # The forger's own tag (from a newsletter they received) does not name the victim.
        delivery_report(failed="victim@example.com", tag_of="forger@example.com"),
    ],
    ids=["no original headers", "another address's tag"],
)
def test_a_report_without_the_addresses_delivery_tag_names_no_hard_bounce(report):
    parsed = letter_parse(report, max_bytes=LIMIT)
    [failure] = delivery_failures(parsed.message)
    assert (failure.address, failure.hard) == ("victim@example.com", True)
    assert hard_bounce_addresses(parsed.message) == []
