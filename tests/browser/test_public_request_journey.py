"""The public request form in Chromium on a phone (390 px wide), through a real SMTP server: a
visitor without an account files a request, reads the code from the e-mail, types a wrong code
once, then the right one, and sees the confirmation with both deadlines; once staff close the
request, the same page shows the answer. No page scrolls sideways."""

import re

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from backgroundmusic.accounts.tests.factories import StaffFactory
from backgroundmusic.mailing.tests.jobs import run_queued
from backgroundmusic.privacy import requests as dsr
from backgroundmusic.privacy.models import DataSubjectRequest
from backgroundmusic.staffroles.roles import StaffRole
from tests.browser.conftest import ContextFactory
from tests.smtp_server import SmtpServer

pytestmark = [
    pytest.mark.browser,
    # The pages are answered by the live server's thread: the test's rows must be committed.
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

PHONE: ViewportSize = {"width": 390, "height": 844}
ADDRESS = "no-account@example.org"
# A long unbroken word in the answer must wrap on a phone, not widen the page.
ANSWER = (
    "We hold no data about no-account@example.org: nothing to send. "
    "Reference: https://backgroundmusic.net/privacy/answers/2026/no-data-held-for-this-address"
)


def assert_fits_the_phone(page: Page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, document.body.scrollWidth]")
    assert max(widths) <= PHONE["width"], (page.url, widths)


def test_a_visitor_files_a_request_proves_the_address_and_reads_the_answer(
    live_server, smtp_server: SmtpServer, new_context: ContextFactory
) -> None:
    base = live_server.url
    page = new_context().new_page()
    page.set_viewport_size(PHONE)

    page.goto(f"{base}/privacy/request/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ask about your data")
    assert_fits_the_phone(page)
    page.get_by_label("Your e-mail address").fill(ADDRESS)
    page.get_by_label("What do you ask for?").select_option("access")
    page.get_by_label("Tell us more (optional)").fill("Which of my data do you keep?")
    page.get_by_role("button", name="Send me the code").click()
    expect(page).to_have_url(f"{base}/privacy/request/code/")
    expect(page.locator("#code-sent")).to_contain_text(f"We sent a code of 6 digits to {ADDRESS}.")
    assert_fits_the_phone(page)

    assert run_queued("send_request_code") == ["sent"]
    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == [ADDRESS]
    found = re.search(r"Your code for a request about your data: (\d{6})", mail.subject)
    assert found is not None, mail.subject
    code = found.group(1)
    assert code in mail.text

    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    page.get_by_label("Code from the e-mail").fill(wrong)
    page.get_by_role("button", name="Confirm my request").click()
    expect(page.locator("#id_code_error")).to_have_text(
        "This code is not right. You have 2 more tries."
    )
    expect(page.locator("#code-sent")).to_contain_text(f"We sent a code of 6 digits to {ADDRESS}.")
    expect(page.get_by_label("Code from the e-mail")).to_have_value(wrong)
    assert not DataSubjectRequest.objects.exists()
    assert_fits_the_phone(page)

    page.get_by_label("Code from the e-mail").fill(code)
    page.get_by_role("button", name="Confirm my request").click()
    expect(page).to_have_url(f"{base}/privacy/request/done/")
    request = DataSubjectRequest.objects.get()
    assert (request.kind, request.requester_contact, request.subject_id) == (
        "access",
        ADDRESS,
        None,
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Your request is logged")
    expect(page.locator('[data-field="number"] dd')).to_have_text(f"#{request.pk}")
    expect(page.locator('[data-field="due_ru"] dd')).to_have_text(request.due_ru.isoformat())
    expect(page.locator('[data-field="due_gdpr"] dd')).to_have_text(request.due_gdpr.isoformat())
    expect(page.locator('[data-field="answer"]')).to_have_count(0)
    assert_fits_the_phone(page)

    officer = StaffFactory.create(role=StaffRole.PRIVACY_OFFICER)
    dsr.request_close(
        actor=officer, request=request, status=DataSubjectRequest.Status.REFUSED, outcome=ANSWER
    )
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your request is answered")
    expect(page.locator('[data-field="status"] dd')).to_have_text("Refused")
    expect(page.locator('[data-field="answer"] dd')).to_have_text(ANSWER)
    expect(page.locator('[data-field="due_ru"]')).to_have_count(0)
    assert_fits_the_phone(page)
