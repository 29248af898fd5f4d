"""Masks personal data in every log record before any handler writes it (DESIGN.md §4), and
carries the request id into the records; JsonLogFormatter writes them as JSON lines
(LOG_FORMAT=json, decision 0042)."""

import contextvars
import functools
import logging
import re
import threading
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

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
    # Not an already masked segment: a record may pass the filter of more than one handler.
    return re.compile(
        "(" + "|".join(re.escape(p) for p in prefixes) + ")(?!" + re.escape(MASK) + r")[^/\s?#\"']+"
    )


def mask(text: str) -> str:
    text = EMAIL_PATTERN.sub(MASK, text)
    path_pattern = _path_pattern(tuple(getattr(settings, "LOG_MASKED_PATH_PREFIXES", ())))
    if path_pattern is not None:
        text = path_pattern.sub(lambda match: match.group(1) + MASK, text)
    for value in sorted(getattr(_known_values, "values", ()), key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


# The attributes every LogRecord has; any other was added by `extra=` or a filter.
STANDARD_RECORD_ATTRIBUTES = frozenset(RESERVED_ATTRS) | {"request_id"}


def _masked(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        return {str(key): _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_masked(item) for item in value]
    # Anything else as its masked text: a request's repr names its path (/u/<username>/).
    return mask(str(value))


class PersonalDataMaskFilter(logging.Filter):
    """Masks the message, the traceback and every extra field."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = mask(message)
        record.args = None
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        # Formatters write exc_text when exc_info is gone; python-json-logger would otherwise
        # format the exception again from exc_info, unmasked.
        record.exc_info = None
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        for name in record.__dict__.keys() - STANDARD_RECORD_ATTRIBUTES:
            setattr(record, name, _masked(getattr(record, name)))
        return True


_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
# What a proxy's X-Request-ID may be to be kept (nginx's $request_id is 32 hex digits); anything
# else is replaced, since it is copied into every log line of the request.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{8,64}")


def current_request_id() -> str:
    return _request_id.get()


def request_id_begin(*, environ: dict[str, Any], **kwargs: Any) -> None:
    """At request_started (core/apps.py), before any middleware and until request_finished, so
    the lines Django writes after the middleware (django.request's 4xx and 5xx) carry it too.
    The proxy's X-Request-ID when it is usable, else a new one."""
    given = str(environ.get("HTTP_X_REQUEST_ID", ""))
    _request_id.set(given if REQUEST_ID_PATTERN.fullmatch(given) else uuid.uuid4().hex)


def request_id_end(**kwargs: Any) -> None:
    _request_id.set("")


class RequestIdMiddleware:
    """Answers the request id in X-Request-ID, so a person reporting a problem can quote it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not _request_id.get():
            request_id_begin(environ=request.META)
        response = self.get_response(request)
        response["X-Request-ID"] = _request_id.get()
        return response


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to the records written while a request is handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = _request_id.get()
        if request_id:
            record.request_id = request_id
        return True


class JsonLogFormatter(JsonFormatter):
    """One JSON object a line: time (ISO 8601, UTC), level, logger, message, request_id when
    there is one, the extra fields, and exc_info with the traceback."""

    def __init__(self) -> None:
        super().__init__(
            "{levelname}{name}{message}",
            style="{",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
            json_ensure_ascii=False,
        )
