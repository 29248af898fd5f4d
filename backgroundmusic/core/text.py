"""The one set of rules for text that comes from outside: forms, the API, the analytics beacon,
request paths and headers (docs/architecture.md, "Text from outside").

Refused everywhere: lone surrogates (U+D800–U+DFFF; no UTF-8 encoding exists for them, so a row
holding one cannot be written) and NUL (PostgreSQL text cannot hold it). Refused in what a person
types: the other C0 and C1 control characters (tab, line feed and carriage return only in
multi-line text), line and paragraph separators in one-line values, and the bidirectional
embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069), which make a name or a
link read differently from what is stored. The direction marks U+200E, U+200F and U+061C stay
allowed: they are what Arabic, Hebrew and Persian keyboards insert, and they open no run that could
reach past the value.

`parse_json` reads a JSON body within a size and nesting limit and puts every string in it under
the rules; every way it can fail is one error, `JsonRejected`.
"""

import enum
import json
import re
from typing import Any

from django.utils.translation import gettext as _

from backgroundmusic.core.errors import DomainError

MAX_JSON_DEPTH = 32


class TextKind(enum.Enum):
    """What a value is, which decides what it may hold."""

    LINE = enum.auto()  # a name, an address, a link, a query: one line
    TEXT = enum.auto()  # multi-line text: tab, line feed and carriage return allowed
    # Only what no row can hold (a lone surrogate, NUL): passwords, which are never stored or
    # shown, and every query and form value at the edge (core/middleware.py).
    STORABLE = enum.auto()
    HEADER = enum.auto()  # an HTTP header value: what RFC 9110 allows (tab and obs-text too)


class TextRejected(DomainError):
    """A value holds a character its kind refuses; the message names the character."""

    code = "bad_text"


class JsonRejected(DomainError):
    """A JSON body that cannot be accepted, for whatever reason; nothing was read from it."""

    code = "not_json"


_SURROGATES = "\ud800-\udfff"
_BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
_REFUSED = {
    TextKind.LINE: re.compile(f"[{_SURROGATES}\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI_CONTROLS}]"),
    TextKind.TEXT: re.compile(
        f"[{_SURROGATES}\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI_CONTROLS}]"
    ),
    TextKind.STORABLE: re.compile(f"[{_SURROGATES}\x00]"),
    TextKind.HEADER: re.compile(f"[{_SURROGATES}\x00-\x08\x0a-\x1f\x7f]"),
}
_LINE_BREAKS = "\t\n\r\u2028\u2029"


def _refusal(char: str) -> TextRejected:
    point = ord(char)
    code = f"{point:04X}"
    if 0xD800 <= point <= 0xDFFF:
        return TextRejected(
            _("The text holds a lone surrogate (U+D800–U+DFFF), which is not a character."),
            code="lone_surrogate",
        )
    if point == 0:
        return TextRejected(
            _("The text holds the NUL character (U+0000), which cannot be stored."), code="nul"
        )
    if char in _LINE_BREAKS:
        return TextRejected(
            _("The text holds a line break or tab (U+%(code)s); this value is one line.")
            % {"code": code},
            code="line_break",
        )
    if point < 0xA0:
        return TextRejected(
            _("The text holds the control character U+%(code)s; remove it.") % {"code": code},
            code="control_character",
        )
    return TextRejected(
        _(
            "The text holds the bidirectional control U+%(code)s, which makes text read "
            "differently from what it is; remove it."
        )
        % {"code": code},
        code="bidi_control",
    )


def text_refusal(value: str, kind: TextKind = TextKind.LINE) -> TextRejected | None:
    """Why `value` cannot be taken as text of this kind (naming the first refused character), or
    None when it can."""
    found = _REFUSED[kind].search(value)
    return _refusal(found.group()) if found else None


def check_text(value: str, kind: TextKind = TextKind.LINE) -> str:
    """`value` unchanged; raises TextRejected when its kind refuses a character in it."""
    refusal = text_refusal(value, kind)
    if refusal is not None:
        raise refusal
    return value


_STRUCTURE = re.compile(rb'[\[\]{}"\\]')


def _too_deep(body: bytes, max_depth: int) -> bool:
    """Whether arrays and objects nest deeper than max_depth, found without parsing (the parser
    recurses once per level, so a few kilobytes of brackets would exhaust the stack)."""
    depth = 0
    in_string = False
    skip_to = 0
    for match in _STRUCTURE.finditer(body):
        position = match.start()
        if position < skip_to:
            continue
        char = body[position]
        if in_string:
            if char == 0x5C:  # a backslash escapes the next byte
                skip_to = position + 2
            elif char == 0x22:
                in_string = False
        elif char == 0x22:
            in_string = True
        elif char in b"[{":
            depth += 1
            if depth > max_depth:
                return True
        elif char in b"]}":
            depth -= 1
    return False


def _refuse_constant(name: str) -> None:
    raise ValueError(name)  # NaN and Infinity are not JSON


def _check_strings(value: Any, kind: TextKind) -> None:
    if isinstance(value, str):
        check_text(value, kind)
    elif isinstance(value, list):
        for item in value:
            _check_strings(item, kind)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, kind)
            _check_strings(item, kind)


def parse_json(
    body: bytes,
    *,
    max_bytes: int,
    max_depth: int = MAX_JSON_DEPTH,
    kind: TextKind = TextKind.TEXT,
) -> Any:
    """The JSON value of `body`, every string and key in it checked as text of `kind`.

    Raises JsonRejected, whose code says why: too_large, not_utf8, too_deep, not_json, or the
    code of the text rule a string broke (lone_surrogate for an escape such as "\\ud800").
    """
    if len(body) > max_bytes:
        raise JsonRejected(
            _("The body is larger than %(n)d bytes.") % {"n": max_bytes}, code="too_large"
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise JsonRejected(_("The body is not UTF-8 text."), code="not_utf8") from None
    if _too_deep(body, max_depth):
        raise JsonRejected(
            _("The JSON nests arrays and objects deeper than %(n)d levels.") % {"n": max_depth},
            code="too_deep",
        )
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except ValueError:
        raise JsonRejected(_("The body is not JSON."), code="not_json") from None
    try:
        _check_strings(value, kind)
    except TextRejected as refused:
        raise JsonRejected(refused.message, code=refused.code) from None
    return value
