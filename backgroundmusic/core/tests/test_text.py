"""The rules for text from outside (core/text.py) and the JSON parser under them."""

import json
import unicodedata

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from backgroundmusic.core.text import (
    MAX_JSON_DEPTH,
    JsonRejected,
    TextKind,
    TextRejected,
    check_text,
    parse_json,
    text_refusal,
)


@pytest.fixture(autouse=True)
def _english():
    """Messages are compared in English, whatever language an earlier test left active."""
    with translation.override("en"):
        yield


BIDI_CONTROLS = [*map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))]


@pytest.mark.parametrize(
    ("value", "code", "message"),
    [
        (
            "a\ud800b",
            "lone_surrogate",
            "The text holds a lone surrogate (U+D800–U+DFFF), which is not a character.",
        ),
        ("a\x00b", "nul", "The text holds the NUL character (U+0000), which cannot be stored."),
        ("a\x1bb", "control_character", "The text holds the control character U+001B; remove it."),
        ("a\x85b", "control_character", "The text holds the control character U+0085; remove it."),
        ("a\x7fb", "control_character", "The text holds the control character U+007F; remove it."),
        (
            "a\nb",
            "line_break",
            "The text holds a line break or tab (U+000A); this value is one line.",
        ),
        (
            "a\u2028b",
            "line_break",
            "The text holds a line break or tab (U+2028); this value is one line.",
        ),
        (
            "a\u202eb",
            "bidi_control",
            "The text holds the bidirectional control U+202E, which makes text read differently "
            "from what it is; remove it.",
        ),
    ],
)
def test_a_one_line_value_is_refused_naming_the_character(value, code, message):
    refusal = text_refusal(value, TextKind.LINE)
    assert refusal is not None
    assert (refusal.code, refusal.message) == (code, message)
    with pytest.raises(TextRejected) as raised:
        check_text(value)
    assert (raised.value.code, raised.value.message) == (code, message)


def test_the_message_is_in_russian_for_a_russian_request():
    with translation.override("ru"):
        refusal = text_refusal("a\x07b")
    assert refusal is not None
    assert refusal.message == "В тексте есть управляющий символ U+0007; уберите его."


@pytest.mark.parametrize("char", BIDI_CONTROLS)
def test_every_bidi_embedding_override_and_isolate_is_refused_in_one_line_and_multi_line_text(
    char,
):
    for kind in (TextKind.LINE, TextKind.TEXT):
        refusal = text_refusal(f"name{char}", kind)
        assert refusal is not None and refusal.code == "bidi_control"


@pytest.mark.parametrize(
    "value",
    [
        "Иван Петров",
        "محمد\u200fعلي",  # the direction marks stay allowed
        "שלום\u200e123",
        "\u061cخالد",
        "Zoë O'Brien-Łukasz",
        "🎵 music",
        "",
    ],
)
def test_names_in_any_script_with_direction_marks_are_taken(value):
    assert check_text(value) == value


def test_multi_line_text_takes_tab_and_line_breaks_but_no_other_control():
    assert check_text("one\ttwo\r\nthree\n", TextKind.TEXT) == "one\ttwo\r\nthree\n"
    refusal = text_refusal("one\x0btwo", TextKind.TEXT)
    assert refusal is not None and refusal.code == "control_character"


def test_a_storable_value_refuses_only_what_cannot_be_stored():
    assert check_text("pass\x07word\u202e\n", TextKind.STORABLE) == "pass\x07word\u202e\n"
    refusals = [text_refusal(value, TextKind.STORABLE) for value in ("a\x00", "a\udfff")]
    assert [refusal and refusal.code for refusal in refusals] == ["nul", "lone_surrogate"]


def test_a_header_value_takes_tab_and_latin_1_bytes_but_no_control():
    # WSGI gives header values as Latin-1: the bytes of UTF-8 text land in U+0080–U+00FF.
    utf8_as_latin1 = "Жук".encode().decode("latin-1")
    assert check_text(f"Mozilla\t{utf8_as_latin1}", TextKind.HEADER)
    for value, code in (
        ("a\x00", "nul"),
        ("a\r\nX: y", "line_break"),
        ("a\x7f", "control_character"),
    ):
        refusal = text_refusal(value, TextKind.HEADER)
        assert refusal is not None and refusal.code == code


@given(st.text())
def test_what_a_one_line_value_takes_can_be_encoded_and_holds_no_control(value):
    if text_refusal(value) is None:
        value.encode("utf-8")
        assert not {unicodedata.category(ch) for ch in value} & {"Cc", "Cs", "Zl", "Zp"}
    else:
        assert text_refusal(value, TextKind.LINE) is not None


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (b"x" * 101, "too_large", "The body is larger than 100 bytes."),
        (b'"\xff"', "not_utf8", "The body is not UTF-8 text."),
        (b'"\xed\xa0\x80"', "not_utf8", "The body is not UTF-8 text."),  # an encoded surrogate
        (
            b"[" * 33 + b"]" * 33,
            "too_deep",
            "The JSON nests arrays and objects deeper than 32 levels.",
        ),
        (b"{", "not_json", "The body is not JSON."),
        (b"NaN", "not_json", "The body is not JSON."),
        (b"[1, Infinity]", "not_json", "The body is not JSON."),
        (b"1" * 5000, "too_large", "The body is larger than 100 bytes."),
        (
            b'{"a": "\\ud800"}',
            "lone_surrogate",
            "The text holds a lone surrogate (U+D800–U+DFFF), which is not a character.",
        ),
        (
            b'{"\\udc00": 1}',
            "lone_surrogate",
            "The text holds a lone surrogate (U+D800–U+DFFF), which is not a character.",
        ),
        (
            b'["\\u0000"]',
            "nul",
            "The text holds the NUL character (U+0000), which cannot be stored.",
        ),
    ],
)
def test_every_failure_to_read_json_is_one_error_with_its_reason(body, code, message):
    with pytest.raises(JsonRejected) as raised:
        parse_json(body, max_bytes=100 if code == "too_large" else 10_000)
    assert (raised.value.code, raised.value.message) == (code, message)


def test_nesting_is_measured_outside_strings_only():
    deepest = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    assert parse_json(deepest, max_bytes=1000) == json.loads(deepest)
    brackets_in_a_string = json.dumps({"text": "[[[[{{{{" * 20 + '\\"[['}).encode()
    assert parse_json(brackets_in_a_string, max_bytes=1000, max_depth=1) == json.loads(
        brackets_in_a_string
    )


def test_a_paired_surrogate_escape_is_the_character_it_encodes():
    assert parse_json(b'{"note": "\\ud83c\\udfb5"}', max_bytes=100) == {"note": "🎵"}


def test_a_2_kb_body_nested_a_thousand_levels_is_refused_not_a_recursion_error():
    with pytest.raises(JsonRejected) as raised:
        parse_json(b"[" * 1000 + b"]" * 1000, max_bytes=16 * 1024)
    assert raised.value.code == "too_deep"


@given(st.binary(max_size=200) | st.text(max_size=60).map(lambda t: json.dumps(t).encode()))
def test_any_body_is_json_or_one_error(body):
    try:
        value = parse_json(body, max_bytes=150)
    except JsonRejected:
        return
    json.dumps(value, ensure_ascii=False).encode("utf-8")
