"""LOG_FORMAT=json (core/logging.py, decision 0042): one JSON object a line, masked like the
plain lines, with the request id."""

import io
import json
import logging
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from backgroundmusic.core.logging import (
    JsonLogFormatter,
    PersonalDataMaskFilter,
    RequestIdFilter,
)

ROOT = Path(__file__).resolve().parents[3]

LOGGING_SCRIPT = """
import logging
import django

django.setup()
try:
    raise ValueError("no account for ann@example.org")
except ValueError:
    logging.getLogger("backgroundmusic.example").warning(
        "Letter to %s about /u/quokkazebra7/ bounced",
        "ann@example.org",
        exc_info=True,
        extra={
            "recipient": "ann@example.org",
            "path": "/u/quokkazebra7/",
            "attempt": 3,
            "seen": ["x", "bob@example.org"],
        },
    )
"""


def run_logging(tmp_path: Path, log_format: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "VAR_DIR": str(tmp_path),
        "LOG_FORMAT": log_format,
    }
    return subprocess.run(  # noqa: S603 - this interpreter, the script above
        [sys.executable, "-c", LOGGING_SCRIPT],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_json_lines_carry_the_fields_masked(tmp_path):
    result = run_logging(tmp_path, "json")
    assert result.returncode == 0, result.stderr
    [line] = result.stderr.splitlines()
    record = json.loads(line)
    assert sorted(record) == [
        "attempt",
        "exc_info",
        "level",
        "logger",
        "message",
        "path",
        "recipient",
        "seen",
        "time",
    ]
    assert datetime.fromisoformat(record["time"]).utcoffset() is not None
    assert {key: value for key, value in record.items() if key not in {"time", "exc_info"}} == {
        "level": "WARNING",
        "logger": "backgroundmusic.example",
        "message": "Letter to [personal data] about /u/[personal data]/ bounced",
        "recipient": "[personal data]",
        "path": "/u/[personal data]/",
        "attempt": 3,
        "seen": ["x", "[personal data]"],
    }
    assert record["exc_info"].splitlines()[-1] == "ValueError: no account for [personal data]"
    assert "example.org" not in line and "quokkazebra7" not in line


def test_plain_stays_the_default_and_a_wrong_format_is_refused(tmp_path):
    result = run_logging(tmp_path, "plain")
    assert result.returncode == 0, result.stderr
    first = result.stderr.splitlines()[0]
    assert first.endswith(
        " WARNING backgroundmusic.example Letter to [personal data] about /u/[personal data]/ "
        "bounced"
    )
    assert "example.org" not in result.stderr and "quokkazebra7" not in result.stderr

    refused = run_logging(tmp_path, "xml")
    assert refused.returncode == 1
    assert refused.stderr.splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: "
        'LOG_FORMAT must be "plain" or "json", not \'xml\'.'
    )


@pytest.fixture
def json_log():
    """The JSON handler as LOGGING builds it, on django.request, written to a string."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter())
    handler.addFilter(RequestIdFilter())
    handler.addFilter(PersonalDataMaskFilter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


@pytest.mark.django_db
def test_a_request_logs_its_id_from_the_proxy(client, json_log):
    response = client.get("/u/quokkazebra7/", HTTP_X_REQUEST_ID="0123456789abcdef0123456789abcdef")
    assert response.status_code == 404
    assert response["X-Request-ID"] == "0123456789abcdef0123456789abcdef"
    [line] = json_log.getvalue().splitlines()
    record = json.loads(line)
    assert sorted(record) == [
        "level",
        "logger",
        "message",
        "request",
        "request_id",
        "status_code",
        "time",
    ]
    assert record["request_id"] == "0123456789abcdef0123456789abcdef"
    assert record["message"] == "Not Found: /u/[personal data]/"
    assert record["request"] == "<WSGIRequest: GET '/u/[personal data]/'>"
    assert record["status_code"] == 404
    assert "quokkazebra7" not in line


@pytest.mark.django_db
@pytest.mark.parametrize("given", ["", "short", "has space in it 123", "x" * 65, "<script>1234"])
def test_an_unusable_request_id_is_replaced(client, json_log, given):
    response = client.get("/no/such/page/", HTTP_X_REQUEST_ID=given)
    made = response["X-Request-ID"]
    assert len(made) == 32 and made != given and int(made, 16) >= 0
    assert json.loads(json_log.getvalue())["request_id"] == made
