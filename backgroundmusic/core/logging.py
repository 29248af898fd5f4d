"""Masks personal data in every log record before any handler writes it (DESIGN.md §4)."""

import functools
import logging
import re
import threading

from django.conf import settings

EMAIL_PATTERN = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
MASK = "[personal data]"

_known_values = threading.local()


def remember_personal_values(*values: str | None) -> None:
    """Values of the person a request or task is handling; masked wherever they appear in logs.

    Called by the code that loads a person's data, so names and addresses that no pattern can
    recognise are still masked for the rest of that request or task.
    """
    known: set[str] = getattr(_known_values, "values", set())
    known.update(v for v in values if v and len(v) >= 3)
    _known_values.values = known


def forget_personal_values() -> None:
    _known_values.values = set()


@functools.cache
def _path_pattern(prefixes: tuple[str, ...]) -> re.Pattern[str] | None:
    if not prefixes:
        return None
    return re.compile("(" + "|".join(re.escape(p) for p in prefixes) + r")[^/\s?#\"']+")


def mask(text: str) -> str:
    text = EMAIL_PATTERN.sub(MASK, text)
    path_pattern = _path_pattern(tuple(getattr(settings, "LOG_MASKED_PATH_PREFIXES", ())))
    if path_pattern is not None:
        text = path_pattern.sub(lambda match: match.group(1) + MASK, text)
    for value in sorted(getattr(_known_values, "values", ()), key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


class PersonalDataMaskFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = mask(message)
        record.args = None
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        return True
