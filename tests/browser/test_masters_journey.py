"""A content manager finds the masters page from the "Staff" link, uploads a master, watches it
go through processing to ready without reloading, and has a damaged file refused with the
reason while the title they typed stays in the form."""

from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import BrowserContext, Page, expect

from backgroundmusic.accounts.tests.factories import StaffFactory
from backgroundmusic.media.models import Master
from backgroundmusic.media.tests.audio import sine, write_wav
from backgroundmusic.privacy.tests.test_export import run_queued
from backgroundmusic.staffroles.roles import StaffRole

pytestmark = [
    pytest.mark.browser,
    # Every page sends analytics beacons, which reach the analytics database.
    pytest.mark.django_db(transaction=True, databases="__all__"),
]


def signed_in(context: BrowserContext, base: str, role: StaffRole) -> None:
    """The session of a staff member with two-factor sign-in set up, put into the browser."""
    member = StaffFactory.create(username="manager", role=role)
    client = Client()
    client.force_login(member)
    cookie = client.cookies["sessionid"]
    context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": base}])


def test_upload_a_master_and_watch_it_become_ready(
    live_server, new_context, tmp_path: Path
) -> None:
    context = new_context()
    signed_in(context, live_server.url, StaffRole.CONTENT_MANAGER)
    page: Page = context.new_page()

    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Staff", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/staff/catalogue/")
    staff_nav = page.get_by_role("navigation", name="Staff")
    expect(staff_nav.get_by_role("link")).to_have_text(["Catalogue", "Masters"])
    staff_nav.get_by_role("link", name="Masters").click()
    expect(page).to_have_url(f"{live_server.url}/staff/catalogue/masters/")
    expect(page.get_by_text("No masters yet.")).to_be_visible()

    master_file = write_wav(tmp_path / "evening-theme.wav", sine(3.0, dbfs=-18, freq=440.0))
    page.get_by_label("Master file").set_input_files(str(master_file))
    page.get_by_label("Title of the new draft track").fill("Evening Theme")
    page.get_by_role("button", name="Upload").click()
    expect(
        page.get_by_text("«Evening Theme» is uploaded; processing starts shortly.")
    ).to_be_visible()
    row = page.locator("tr[data-master-id]")
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-status", "uploaded")
    expect(row.locator("td").first).to_contain_text("Evening Theme")

    # The worker's turn; the page polls and shows the result without a reload.
    assert run_queued("ingest_master") == ["ready"]
    master = Master.objects.get()
    expect(row).to_have_attribute("data-status", "ready", timeout=15_000)
    expect(row).to_contain_text(f"{master.integrated_lufs} LUFS")
    expect(row).to_contain_text("3.0 s, sound from 0.0 s to 3.0 s")

    damaged = tmp_path / "damaged.wav"
    damaged.write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk" + bytes(range(256)) * 4)
    page.get_by_label("Master file").set_input_files(str(damaged))
    page.get_by_label("Title of the new draft track").fill("Broken Take")
    page.get_by_role("button", name="Upload").click()
    expect(page.locator(".field-error")).to_contain_text(
        "The file is damaged or is not an audio file"
    )
    expect(page.get_by_label("Title of the new draft track")).to_have_value("Broken Take")
    assert Master.objects.count() == 1
