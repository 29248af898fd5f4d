"""The SMS sender: send_sms hands one message to the configured backend, as mail does."""

import stat
from datetime import UTC, datetime

import pytest

from backgroundmusic.core import clock, sms

NOW = datetime(2026, 12, 4, 9, 30, 15, 123456, tzinfo=UTC)


def test_the_test_settings_keep_messages_in_the_outbox():
    sms.send_sms(to="+79161234567", body="Hello")
    sms.send_sms(to="+442079460958", body="Line one\nline two")
    assert sms.outbox == [
        sms.SmsMessage(to="+79161234567", body="Hello"),
        sms.SmsMessage(to="+442079460958", body="Line one\nline two"),
    ]


def test_the_embedded_default_writes_one_private_file_per_message(settings, tmp_path):
    settings.SMS_BACKEND = "backgroundmusic.core.sms.FileSmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    with clock.frozen_at(NOW):
        sms.send_sms(to="+79161234567", body="Новый альбом уже в каталоге")
        sms.send_sms(to="+79161234567", body="Second")

    files = sorted((tmp_path / "sms").iterdir())
    assert [path.name[:23] for path in files] == ["20261204-093015-123456-"] * 2
    assert all(path.suffix == ".sms" for path in files)
    head = "To: +79161234567\nDate: 2026-12-04T09:30:15.123456+00:00\n\n"
    assert {path.read_text(encoding="utf-8") for path in files} == {
        f"{head}Новый альбом уже в каталоге\n",
        f"{head}Second\n",
    }
    assert {stat.S_IMODE(path.stat().st_mode) for path in files} == {0o600}
    assert {message for _path, message in sms.sms_file_messages()} == {
        sms.SmsMessage(to="+79161234567", body="Новый альбом уже в каталоге"),
        sms.SmsMessage(to="+79161234567", body="Second"),
    }
    assert {sms.sms_file_written_at(path) for path in files} == {NOW}
    assert sms.outbox == []


def test_the_file_path_defaults_to_var_sms(settings, tmp_path):
    settings.SMS_FILE_PATH = ""
    settings.VAR_DIR = tmp_path
    assert sms.sms_file_path() == tmp_path / "sms"


@pytest.mark.parametrize(
    ("to", "body"),
    [
        ("89161234567", "Hello"),
        ("+7 916 123-45-67", "Hello"),
        ("+0123", "Hello"),
        ("+79161234567", ""),
        ("+79161234567", "   "),
        ("+79161234567", "x" * (sms.MAX_BODY_LENGTH + 1)),
        ("+79161234567", "nul \x00 inside"),
        ("+79161234567", "bidi \u202e inside"),
    ],
)
def test_a_message_that_cannot_be_sent_as_it_is_raises_and_sends_nothing(to, body):
    with pytest.raises(ValueError):
        sms.send_sms(to=to, body=body)
    assert sms.outbox == []
