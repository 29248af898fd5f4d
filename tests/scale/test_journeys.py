"""The browser journeys through nginx, in front of two app servers, two task workers,
PostgreSQL, Redis and the S3 double (tests/scale/stack.py): nothing here reaches the database
but through the site, and the e-mails arrive at the stack's SMTP server."""

import mailbox
import re
import secrets
import time
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.sync_api import Response, expect

from backgroundmusic.privacy.tests.test_export import archive_of, records_of
from tests.browser.conftest import ContextFactory
from tests.browser.test_account_journey import PASSWORD, log_in, sign_up
from tests.browser.test_privacy_journey import expect_at, expect_messages
from tests.scale.conftest import stack_state
from tests.scale.names import MEMBER_PASSWORD, TRACKS, member_username
from tests.smtp_server import LINK
from tests.yookassa_double import TEST_DOUBLE_SHOP, YooKassaDouble

pytestmark = pytest.mark.browser


def mail_to(address: str, subject: str, *, seconds: float = 60) -> EmailMessage:
    """The message to `address` with `subject` the stack's SMTP server received, waiting."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for _key, message in mailbox.Maildir(stack_state()["maildir"], create=False).items():
            parsed = message_of(bytes(message))
            if parsed["To"] == address and parsed["Subject"] == subject:
                return parsed
        time.sleep(0.5)
    raise AssertionError(f"no e-mail {subject!r} to {address} within {seconds:.0f} s")


def message_of(raw: bytes) -> EmailMessage:
    from email import message_from_bytes

    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def links_in(message: EmailMessage) -> list[str]:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return LINK.findall(body.get_content())


def jobs_finished_in_redis() -> list[str]:
    """The tasks of the jobs RQ's workers finished, as Redis keeps them (decision 0040)."""
    from redis import Redis
    from rq.job import Job
    from rq.registry import FinishedJobRegistry

    environment = stack_state()["environment"]
    assert environment["TASKS_BACKEND"] == "rq"
    connection = Redis.from_url(environment["TASKS_REDIS_URL"])
    ids = FinishedJobRegistry("default", connection=connection).get_job_ids()
    return [str(job.func_name) for job in Job.fetch_many(ids, connection=connection) if job]


def nginx_lines_since(offset: int) -> list[list[str]]:
    """The access log's lines after byte `offset`: time, status, method, path, upstreams..."""
    with Path(stack_state()["nginx_access_log"]).open("rb") as log:
        log.seek(offset)
        return [line.split(" ") for line in log.read().decode().splitlines()]


def nginx_log_size() -> int:
    return Path(stack_state()["nginx_access_log"]).stat().st_size


def test_sign_up_confirm_sign_in_and_download_my_data(
    base_url: str, new_context: ContextFactory, tmp_path: Path
) -> None:
    """The confirmation e-mail and the data export's e-mail go out through SMTP; the export is
    built by a task worker, its job taken from Redis (TASKS_BACKEND=rq), into the S3 double and
    downloaded through nginx."""
    username = f"scale_{secrets.token_hex(4)}"
    email = f"{username}@example.com"
    page = new_context().new_page()

    sign_up(page, base_url, username=username, email=email)
    expect(page.get_by_text(f"Confirmation email sent to {email}.")).to_be_visible()
    confirmation = mail_to(email, "BACKGROUND MUSIC: Please Confirm Your Email Address")
    [link] = links_in(confirmation)
    assert link.startswith(f"{base_url}/accounts/confirm-email/")
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(f"{base_url}/accounts/login/")
    expect(page.get_by_text(f"You have confirmed {email}.")).to_be_visible()

    log_in(page, base_url, username)
    page.goto(f"{base_url}/privacy/#data")
    expect(page.locator("#download")).to_have_text("Download my data")
    page.locator("#export-request-form").get_by_role("button", name="Download my data").click()
    expect_at(page, base_url, "/accounts/reauthenticate/?next=%2Fprivacy%2Fexport%2F")
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect_messages(
        page,
        [
            "We are preparing your data. We will e-mail you a download link, and it will appear "
            "here, when it is ready."
        ],
    )

    # A task worker builds the archive; the privacy center shows it once it is there.
    ready = mail_to(email, "BACKGROUND MUSIC: your data is ready to download", seconds=120)
    [download_link] = links_in(ready)
    assert "backgroundmusic.privacy.tasks.build_data_export" in jobs_finished_in_redis()
    assert download_link.startswith(f"{base_url}/privacy/export/download/")
    page.reload()
    row = page.locator("#exports tbody tr").first
    expect(row.locator(".export-state")).to_have_text("Ready to download")
    with page.expect_download() as download_info:
        row.get_by_role("button", name="Download").click()
    saved = tmp_path / "export.zip"
    download_info.value.save_as(saved)
    data, _html = archive_of(saved.read_bytes())
    [user_row] = records_of(data)["accounts.User"]["rows"]
    assert (user_row["username"], user_row["email"]) == (username, email)


def test_browse_search_and_play_a_preview_through_nginx(
    base_url: str, new_context: ContextFactory
) -> None:
    """The catalogue lists the seeded tracks (ingested by the workers), the search finds one,
    and its preview plays through a secure link: nginx checks it and answers the browser's
    range requests with the bytes it fetched from the storage; no app server sees them."""
    title = TRACKS[0][0]
    page = new_context().new_page()
    streams: list[Response] = []
    page.on("response", lambda r: streams.append(r) if "/audio/renditions/" in r.url else None)
    log_offset = nginx_log_size()

    page.goto(f"{base_url}/catalog/")
    total = int(stack_state()["tracks"])
    expect(page.locator(".results-count")).to_have_text(f"{total} tracks")
    page.get_by_role("searchbox").fill(title)
    page.get_by_role("searchbox").press("Enter")
    expect(page.locator(".track-title")).to_have_text([title])
    page.get_by_role("link", name=title).click()
    expect(page.locator("h1")).to_have_text(title)

    page.get_by_role("button", name=f"Play the preview of {title}").click()
    page.wait_for_function(
        "() => { const a = document.getElementById('player-audio');"
        " return !a.paused && a.currentTime > 0.5; }"
    )
    assert streams, "the player asked for no secure link"
    for answer in streams:
        assert answer.status in (200, 206)
        assert answer.headers["server"].startswith("nginx")
        assert answer.headers["content-type"] == "audio/mpeg"
    # nginx fetched those bytes from the storage (the S3 double), and from nothing else.
    assert_streamed_from_the_storage_only(since=log_offset)


def assert_streamed_from_the_storage_only(*, since: int) -> None:
    """Every secure-link request in the access log after byte `since` went to the storage
    alone. nginx logs a request when its answer ends, and the player may still be reading."""
    storage = stack_state()["environment"]["S3_ENDPOINT_URL"].removeprefix("http://")
    deadline = time.monotonic() + 30
    while True:
        lines = nginx_lines_since(since)
        streamed = [line for line in lines if line[3].startswith("/audio/renditions/")]
        if streamed or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert streamed
    assert {line[4] for line in streamed} == {storage}
    assert {line[1] for line in streamed} <= {"200", "206"}
    assert not [line for line in lines if line[3].startswith(("/stream/", "/protected-s3/"))]


def test_a_member_buys_a_creator_subscription_by_card_and_plays_a_track_in_full(
    base_url: str, new_context: ContextFactory
) -> None:
    """Checkout against the YooKassa double (its webhook reaches the site through nginx), then
    the whole track plays: its Opus rendition, from the storage through nginx."""
    payments = YooKassaDouble(
        base_url=stack_state()["payments_double"],
        shop_id=TEST_DOUBLE_SHOP["shop_id"],
        secret_key=TEST_DOUBLE_SHOP["secret_key"],
    )
    payments.set_webhook(f"{base_url}/payments/yookassa/notifications")
    title = TRACKS[1][0]
    page = new_context().new_page()

    page.goto(f"{base_url}/accounts/login/")
    page.locator("#id_login").fill(member_username(1))
    page.locator("#id_password").fill(MEMBER_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{base_url}/account/profile/")
    page.locator("#id_full_name").fill("Mira Holm")
    page.get_by_role("button", name="Save profile").click()
    expect_messages(page, ["Your profile is saved."])

    page.goto(f"{base_url}/pricing/creator/")
    page.get_by_role("button", name="Add to cart").click()
    expect_at(page, base_url, "/cart/")
    page.get_by_role("link", name="Check out").click()
    expect(page.get_by_label("Bank card")).to_be_checked()
    page.get_by_label("I have read the licence terms above and accept them").check()
    page.get_by_role("button", name="Place the order").click()
    page.wait_for_url(re.compile(f"^{re.escape(payments.base_url)}/_double/confirm/"))
    expect(page.locator("#amount")).to_have_text("1207.80 RUB")
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url(re.compile(f"^{re.escape(base_url)}/orders/"))
    expect(page.locator("#order-status")).to_have_text("Paid")

    page.goto(f"{base_url}/catalog/?q={title}")
    page.get_by_role("link", name=title).click()
    expect(page.locator(".track-play span")).to_have_text("Play the full track")
    log_offset = nginx_log_size()
    with page.expect_response(lambda response: "/audio/renditions/" in response.url) as answer:
        page.get_by_role("button", name=f"Play {title} in full").click()
    response = answer.value
    assert response.status == 206
    assert response.headers["server"].startswith("nginx")
    assert response.headers["content-type"] == "audio/webm; codecs=opus"
    assert not [name for name in response.headers if name.startswith("x-amz")]
    assert_streamed_from_the_storage_only(since=log_offset)
