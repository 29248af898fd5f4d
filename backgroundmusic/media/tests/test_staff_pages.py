"""/staff/catalogue/masters/: every caller kind, upload with errors kept, progress, retry."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from backgroundmusic.accounts.tests.factories import StaffFactory
from backgroundmusic.catalog import services as catalogue
from backgroundmusic.catalog.models import Track
from backgroundmusic.media import services
from backgroundmusic.media.models import Master
from backgroundmusic.media.tests.audio import sine, write_wav
from backgroundmusic.staffroles.roles import StaffRole
from tests.callers import CALLERS, expected_by_caller

pytestmark = pytest.mark.django_db

URL = "/staff/catalogue/masters/"
EXPECTED = expected_by_caller(
    {"content_manager", "administrator"},
    allowed_outcome=200,
    refused_outcome=403,
    kinds=CALLERS,
    anonymous=302,
)


@pytest.fixture
def wav_bytes(tmp_path: Path) -> bytes:
    return write_wav(tmp_path / "a.wav", sine(1.5)).read_bytes()


@pytest.mark.parametrize("caller", list(EXPECTED))
def test_who_may_list_and_upload(client: Client, caller: str, wav_bytes: bytes, caller_for):
    caller_for(caller)
    assert client.get(URL).status_code == EXPECTED[caller]
    upload = SimpleUploadedFile("Dawn.wav", wav_bytes, content_type="audio/wav")
    response = client.post(URL, {"file": upload, "title": "Dawn"})
    assert response.status_code == (302 if EXPECTED[caller] == 200 else EXPECTED[caller])
    allowed = EXPECTED[caller] == 200
    assert list(Master.objects.values_list("track__title", "status")) == (
        [("Dawn", "uploaded")] if allowed else []
    )
    assert Track.objects.count() == (1 if allowed else 0)


def test_a_manager_without_two_factor_is_sent_to_set_it_up(client: Client):
    client.force_login(StaffFactory.create(role=StaffRole.CONTENT_MANAGER, totp=False))
    response = client.get(URL)
    assert (response.status_code, response["Location"]) == (302, "/accounts/2fa/totp/activate/")


def test_a_refused_file_keeps_the_form_and_says_why(client: Client, caller_for):
    caller_for("content_manager")
    upload = SimpleUploadedFile("noise.wav", b"RIFF" + b"\x07" * 5000, content_type="audio/wav")
    response = client.post(URL, {"file": upload, "title": "Kept title"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "The file is damaged or is not an audio file" in html
    assert 'value="Kept title"' in html
    assert (Master.objects.count(), Track.objects.count()) == (0, 0)


def test_track_and_title_together_are_refused(client: Client, wav_bytes: bytes, caller_for):
    track = catalogue.track_create(actor=None, title="Noon", catalogue_code="MW-1")
    caller_for("content_manager")
    upload = SimpleUploadedFile("a.wav", wav_bytes, content_type="audio/wav")
    response = client.post(URL, {"file": upload, "track": track.pk, "title": "Other"})
    assert response.status_code == 400
    assert "Choose a track or give a title for a new one, not both." in response.content.decode()
    assert Master.objects.count() == 0


def test_attach_to_a_track_then_progress_and_failure_are_shown(
    client: Client, wav_bytes, caller_for
):
    track = catalogue.track_create(actor=None, title="Noon", catalogue_code="MW-1")
    caller_for("content_manager")
    upload = SimpleUploadedFile("a.wav", wav_bytes, content_type="audio/wav")
    assert client.post(URL, {"file": upload, "track": track.pk}).status_code == 302
    master = Master.objects.get()
    assert master.track == track
    Master.objects.filter(pk=master.pk).update(status="processing", step="aac", progress=62)
    page = client.get(URL).content.decode()
    assert 'hx-trigger="every 2s"' in page
    assert '<progress max="100" value="62">62%</progress>' in page
    assert "Encoding AAC" in page
    fragment = client.get(URL + "?fragment=table").content.decode()
    assert fragment.startswith('<div id="masters-live"')
    Master.objects.filter(pk=master.pk).update(
        status="failed", failure_reason=services.STUCK_REASON
    )
    page = client.get(URL).content.decode()
    assert services.STUCK_REASON in page
    assert "hx-trigger" not in page
    assert client.post(f"{URL}{master.pk}/retry/").status_code == 302
    assert Master.objects.get().status == "uploaded"


def test_retry_is_refused_to_support(client: Client, wav_bytes: bytes, tmp_path: Path, caller_for):
    master = services.master_upload(source=write_wav(tmp_path / "b.wav", sine(1.5)), actor=None)
    Master.objects.filter(pk=master.pk).update(status="failed", failure_reason="x")
    caller_for("support")
    assert client.post(f"{URL}{master.pk}/retry/").status_code == 403
    assert Master.objects.get().status == "failed"
