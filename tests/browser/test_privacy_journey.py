"""Issue 3 in a real browser: cookies before and after a choice, consents given and withdrawn in
the privacy center, "Download my data", and a new policy edition published by staff."""

import io
import re
import time
import zipfile
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import (
    TOTP,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.test import RequestFactory
from django.utils import formats, timezone, translation
from django_tasks_db.models import DBTaskResult
from playwright.sync_api import BrowserContext, Locator, Page, Request, expect

from backgroundmusic.accounts import services
from backgroundmusic.accounts.models import Profile, User
from backgroundmusic.accounts.tests.factories import StaffFactory
from backgroundmusic.analytics.identity import pseudonym_from_cookie
from backgroundmusic.analytics.models import AnalyticsIdentity
from backgroundmusic.core.request_info import browser_family
from backgroundmusic.privacy import consents, cookies, policies
from backgroundmusic.privacy.demo import edition_sources
from backgroundmusic.privacy.editions import current_edition
from backgroundmusic.privacy.models import (
    AcceptanceAction,
    ConsentAction,
    ConsentConfirmation,
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    DataExport,
    DocumentKind,
    PolicyAcceptance,
    PolicyEdition,
)
from backgroundmusic.privacy.tests.test_export import archive_of, records_of
from backgroundmusic.staffroles.roles import StaffRole
from tests.browser.conftest import ContextFactory
from tests.smtp_server import SmtpServer

pytestmark = [
    pytest.mark.browser,
    # Every page sends analytics beacons, which reach the analytics database.
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

PASSWORD = "quiet-meadow-4711"
ESSENTIAL = cookies.cookie_names(category=cookies.CookieCategory.ESSENTIAL)
CSRF = "csrftoken"
SESSION = "sessionid"
NEWSLETTER = "Newsletters and promotional e-mail"
RESEARCH = "Depersonalized research and ad targeting by partners"
CONFIRMED_BY_EMAIL = "Confirmed by a link sent by e-mail"
ANALYTICS = "Identified analytics cookies"
ANALYTICS_DESCRIPTION = (
    "An analytics cookie that tells your visits apart, so we see which pages help. Without it we "
    "only count pages, not people."
)
BANNER_TEXT = (
    "We use the cookies the site needs to work. With your consent we also use one analytics "
    "cookie to see which pages help and how long they are read. It is never shared or used for "
    "advertising."
)


def expect_messages(page: Page, texts: list[str]) -> None:
    """The one-time notices the page shows, waiting for them: after a click on a form that
    redirects back to the same address, the URL alone does not say the new page is there."""
    notices = page.locator("ul.messages li")
    if texts:
        expect(notices).to_have_text(texts)
    else:
        expect(notices).to_have_count(0)


def expect_at(page: Page, base: str, path: str) -> None:
    """The page is at `path`, waiting for it. Its #anchor is not checked: the site's boosted
    (htmx) forms follow a redirect by XHR, whose final URL has no fragment, and htmx then keeps
    the anchor of the address the form was posted to, if any."""
    address = path.partition("#")[0]
    expect(page).to_have_url(re.compile(f"^{re.escape(base + address)}(#.*)?$"))


def cookie_jar(context: BrowserContext) -> dict[str, str]:
    return {cookie["name"]: cookie["value"] for cookie in context.cookies()}


def analytics_choice(context: BrowserContext) -> bool | None:
    """What the browser's bm_consent says about analytics, read by the site's own reader (which
    also checks the signature): True, False, or None for no valid choice."""
    request = RequestFactory().get("/")
    value = cookie_jar(context).get(cookies.CONSENT_COOKIE)
    if value is not None:
        request.COOKIES[cookies.CONSENT_COOKIE] = value
    choice = cookies.cookie_choice(request)
    return None if choice is None else choice.analytics


class PostLog:
    """The form submissions (POST requests) a page makes, to count the clicks an action takes;
    the analytics beacons the page sends by itself are not clicks."""

    def __init__(self, page: Page, base: str) -> None:
        self._base = base
        self._posts: list[str] = []
        page.on("request", self._record)

    def _record(self, request: Request) -> None:
        path = urlsplit(request.url).path
        if request.method == "POST" and request.url.startswith(self._base) and path != "/a/e":
            self._posts.append(path)

    def take(self) -> list[str]:
        """The paths POSTed to since the last call."""
        taken, self._posts = self._posts, []
        return taken


def make_user(username: str, *, full_name: str = "") -> User:
    user = services.user_create(
        username=username,
        email=f"{username}@example.com",
        password=PASSWORD,
        email_verified=True,
    )
    if full_name:
        profile = Profile.objects.get(user=user)
        profile.full_name = full_name
        profile.save()
    return user


def log_in(page: Page, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/accounts/login/")
    page.locator("#id_login").fill(username)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    expect_messages(page, [f"Successfully signed in as {username}."])
    expect_at(page, base, "/account/profile/")


def totp_code(secret: str) -> str:
    """The code an authenticator app shows now. allauth accepts only the current time step (no
    tolerance by default), so a code about to expire is not used: wait for the next step."""
    period = mfa_settings.TOTP_PERIOD
    left = period - time.time() % period
    if left < 4:
        time.sleep(left + 0.5)
    counter = next(iter(yield_hotp_counters_from_time()))
    return f"{hotp_value(secret, counter):06d}"


def consent_row(page: Page, purpose: str) -> Locator:
    return page.locator(f"#consent-{purpose}")


def expect_consent_row(
    page: Page, purpose: str, label: str, *, state: str, since: str, how: str, button: str
) -> None:
    row = consent_row(page, purpose)
    cells = row.locator("td")
    expect(cells.nth(0).locator("strong")).to_have_text(label)
    expect(cells.nth(1)).to_have_text(state)
    expect(cells.nth(2)).to_have_text(since)
    expect(cells.nth(3)).to_have_text(how)
    expect(row.get_by_role("button")).to_have_text(f"{button} — {label}")


def minute(at: datetime) -> str:
    """A time as the privacy center shows it (UTC, to the minute)."""
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M")


def expect_history(page: Page, expected: list[list[str | list[str]]]) -> None:
    """The rows of the consent history table, newest first, cell by cell; the last cell is the
    evidence, one sentence a line, behind its "What we kept as proof" summary."""
    rows = page.locator("table.consent-history tbody tr")
    expect(rows).to_have_count(len(expected))
    shown = []
    for row in rows.all():
        cells = [cell.strip() for cell in row.locator("td").all_inner_texts()]
        assert cells[-1] == "What we kept as proof"
        shown.append([*cells[:-1], row.locator("td details li").all_text_contents()])
    assert shown == expected


def evidence_lines(record: ConsentRecord) -> list[str]:
    """What the history shows of a record's evidence (its exact content is asserted in
    privacy/tests/test_consent_evidence.py)."""
    return consents.evidence_described(record.evidence, method=record.method)


def ledger(user: User) -> list[tuple[str, str, str]]:
    return list(
        ConsentRecord.objects.filter(subject_id=user.pk)
        .order_by("at", "pk")
        .values_list("purpose", "action", "method")
    )


def run_queued_jobs(task_name: str) -> list[str]:
    """Runs the queued jobs of one task here, in the test thread, as the worker would: the
    task's function with the arguments stored in the queue, then the row marked done. The live
    server shares the database (transaction=True), so it sees the result at once."""
    results = []
    rows = DBTaskResult.objects.filter(status="READY", task_path__endswith=f".{task_name}")
    for row in rows.order_by("enqueued_at", "pk"):
        call = row.args_kwargs
        results.append(row.task.call(*call["args"], **call["kwargs"]))
        DBTaskResult.objects.filter(pk=row.pk).update(
            status="SUCCESSFUL", finished_at=timezone.now()
        )
    return results


@pytest.fixture
def no_policy_editions() -> None:
    """Tests 1 to 4 run with no edition published, so no policy notice covers the page."""
    assert not PolicyEdition.objects.exists()


# 1. First visit: essential cookies only; "Reject all" in one click


def test_first_visit_sets_only_essential_cookies_and_reject_all_takes_one_click(
    live_server, new_context: ContextFactory, no_policy_editions: None
) -> None:
    base = live_server.url
    context = new_context()
    page = context.new_page()
    posts = PostLog(page, base)

    page.goto(f"{base}/")
    # Only the CSRF cookie (the banner and the language switcher are forms); it is essential.
    assert set(cookie_jar(context)) == {CSRF}
    assert set(cookie_jar(context)) <= ESSENTIAL
    assert cookies.ANALYTICS_COOKIE not in cookie_jar(context)
    assert analytics_choice(context) is None

    banner = page.locator("#cookie-banner")
    expect(banner).to_be_visible()
    expect(banner.locator("h2")).to_have_text("Cookies")
    expect(banner.locator("p")).to_have_text(BANNER_TEXT)
    expect(banner.get_by_role("button")).to_have_text(["Accept all", "Reject all"])
    expect(banner.get_by_role("link", name="Choose", exact=True)).to_have_attribute(
        "href", "/cookies/"
    )
    # The footer of every page links to the cookie page.
    expect(
        page.locator("footer").get_by_role("link", name="Cookies", exact=True)
    ).to_have_attribute("href", "/cookies/")

    banner.get_by_role("button", name="Reject all", exact=True).click()
    expect_messages(page, ["Saved: only essential cookies are used."])
    expect_at(page, base, "/")
    assert posts.take() == ["/cookies/choice/"]  # one click, one request
    expect(page.locator("#cookie-banner")).to_have_count(0)
    assert set(cookie_jar(context)) == {CSRF, cookies.CONSENT_COOKIE}
    assert set(cookie_jar(context)) <= ESSENTIAL
    assert analytics_choice(context) is False
    assert not ConsentRecord.objects.exists()  # a visitor has no ledger, only the cookie

    page.reload()
    expect(page.locator("h1")).to_have_text("Instrumental background music, licensed properly")
    expect(page.locator("#cookie-banner")).to_have_count(0)
    expect_messages(page, [])
    assert set(cookie_jar(context)) == {CSRF, cookies.CONSENT_COOKIE}
    assert posts.take() == []

    page.goto(f"{base}/cookies/")
    expect(page.locator("#cookie-choice-state")).to_have_text("You allowed essential cookies only.")
    expect(page.locator("#id_analytics_1")).to_be_checked()
    # The register lists every cookie the site sets: the essential ones, then analytics.
    expect(page.locator("table.cookie-register tbody tr td:first-child")).to_have_text(
        [SESSION, CSRF, "messages", cookies.CONSENT_COOKIE, "django_language", "bm_aid"]
    )
    assert cookies.ANALYTICS_COOKIE not in cookie_jar(context)


# 2. Accept analytics on /cookies/, withdraw in the privacy center: the cookie is gone


def test_accept_analytics_then_withdraw_in_the_privacy_center_deletes_the_cookie(
    live_server, new_context: ContextFactory, no_policy_editions: None
) -> None:
    base = live_server.url
    user = make_user("cora_analytics")
    context = new_context()
    page = context.new_page()
    browser = browser_family(page.evaluate("navigator.userAgent"))
    posts = PostLog(page, base)
    log_in(page, base, user.username)
    expect(page.locator("#cookie-banner")).to_be_visible()
    assert set(cookie_jar(context)) == {CSRF, SESSION}  # essential only, also when signed in
    posts.take()

    page.goto(f"{base}/cookies/")
    expect(page.locator("h1")).to_have_text("Cookies")
    expect(page.locator("#cookie-banner")).to_have_count(0)  # the full choice is here
    expect(page.locator("#cookie-choice-state")).to_have_text(
        "You have not chosen yet: only essential cookies are set."
    )
    form = page.locator("#cookie-preferences")
    form.get_by_label("Allow", exact=True).check()
    form.get_by_role("button", name="Save my choice").click()
    expect_messages(page, ["Saved: analytics cookies are allowed."])
    expect_at(page, base, "/cookies/")
    assert posts.take() == ["/cookies/choice/"]
    expect(page.locator("#cookie-choice-state")).to_have_text("You allowed analytics cookies.")
    expect(page.locator("#id_analytics_0")).to_be_checked()
    assert analytics_choice(context) is True
    # The page after the choice sets the analytics pseudonym, linked to the account.
    assert set(cookie_jar(context)) == {
        CSRF,
        SESSION,
        cookies.CONSENT_COOKIE,
        cookies.ANALYTICS_COOKIE,
    }
    [aid] = [c for c in context.cookies() if c["name"] == cookies.ANALYTICS_COOKIE]
    assert (aid["httpOnly"], aid["sameSite"]) == (True, "Lax")
    assert AnalyticsIdentity.objects.get(user=user).pseudonym == pseudonym_from_cookie(aid["value"])
    [given] = ConsentRecord.objects.filter(subject_id=user.pk)
    assert (given.purpose, given.action, given.method, given.recipient_id) == (
        ConsentPurpose.ANALYTICS,
        ConsentAction.GIVEN,
        ConsentMethod.PREFERENCE_CENTER,
        None,
    )

    page.goto(f"{base}/privacy/")
    expect(page.locator("h1")).to_have_text("Privacy center")
    expect_consent_row(
        page,
        "analytics",
        ANALYTICS,
        state="Given",
        since=minute(given.at),
        how="Preference center",
        button="Withdraw",
    )
    with page.expect_response(f"{base}/privacy/consents/") as withdrawal:
        consent_row(page, "analytics").get_by_role("button").click()
    expect_messages(page, [f"Consent withdrawn: {ANALYTICS}."])
    expect_at(page, base, "/privacy/#consents")
    assert posts.take() == ["/privacy/consents/"]  # one click, like giving

    # The withdrawal's own response deletes the analytics cookie and stores the refusal.
    set_cookies = [
        header["value"]
        for header in withdrawal.value.headers_array()
        if header["name"].lower() == "set-cookie"
    ]
    [deletion] = [value for value in set_cookies if value.startswith("bm_aid=")]
    assert deletion.startswith('bm_aid=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0;')
    assert set(cookie_jar(context)) == {CSRF, SESSION, cookies.CONSENT_COOKIE}
    assert analytics_choice(context) is False

    withdrawn = ConsentRecord.objects.filter(subject_id=user.pk).order_by("at", "pk").last()
    assert withdrawn is not None
    assert ledger(user) == [
        ("analytics", "given", "preference_center"),
        ("analytics", "withdrawn", "preference_center"),
    ]
    expect_consent_row(
        page,
        "analytics",
        ANALYTICS,
        state="Withdrawn",
        since=minute(withdrawn.at),
        how="Preference center",
        button="Give",
    )
    expect_history(
        page,
        [
            [
                minute(withdrawn.at),
                ANALYTICS,
                "Withdrawn",
                "Preference center",
                [
                    "Made by you.",
                    f"From {browser}, network 127.0.0.0 (the address cut to its network).",
                    f"Wording shown (English): “{ANALYTICS}. {ANALYTICS_DESCRIPTION}”",
                ],
            ],
            [minute(given.at), ANALYTICS, "Given", "Preference center", evidence_lines(given)],
        ],
    )
    page.goto(f"{base}/cookies/")
    expect(page.locator("#cookie-choice-state")).to_have_text("You allowed essential cookies only.")
    assert cookies.ANALYTICS_COOKIE not in cookie_jar(context)


# 3. The newsletter: asked for in the privacy center, confirmed from the e-mailed link (double
# opt-in), withdrawn in one click


def test_the_newsletter_is_confirmed_from_the_mailed_link_and_withdrawn_in_one_click(
    live_server,
    smtp_server: SmtpServer,
    new_context: ContextFactory,
    no_policy_editions: None,
) -> None:
    base = live_server.url
    user = make_user("dario_newsletter")
    page = new_context().new_page()
    posts = PostLog(page, base)
    log_in(page, base, user.username)
    posts.take()

    page.goto(f"{base}/privacy/")
    expect_consent_row(
        page, "newsletter", NEWSLETTER, state="Not given", since="—", how="—", button="Give"
    )
    expect(page.locator("#consents")).to_contain_text(
        "You have not given or withdrawn any consent yet."
    )
    expect(page.locator("table.consent-history")).to_have_count(0)

    # "Give" asks: a link goes to the verified address, and no consent is written yet.
    consent_row(page, "newsletter").get_by_role("button", name=f"Give — {NEWSLETTER}").click()
    expect_messages(
        page,
        [
            "We have sent a confirmation link to your e-mail address. The newsletter starts once "
            "you open it and confirm."
        ],
    )
    expect_at(page, base, "/privacy/#consents")
    assert posts.take() == ["/privacy/consents/"]
    assert not ConsentRecord.objects.exists()
    asked = ConsentConfirmation.objects.get(subject_id=user.pk)
    expect_consent_row(
        page,
        "newsletter",
        NEWSLETTER,
        state="Waiting for your confirmation",
        since="—",
        how="—",
        button="Send again",
    )
    expect(page.locator("#optin-pending")).to_have_text(
        f"We sent a confirmation link to your e-mail address on {minute(asked.requested_at)}. "
        "The newsletter starts once you confirm."
    )

    assert run_queued_jobs("send_consent_confirmation") == ["sent"]
    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == [user.email]
    assert mail.subject == "BACKGROUND MUSIC: confirm that you want the newsletter"
    [link] = mail.links
    assert link.startswith(f"{base}/privacy/confirm/")

    # Opening the link shows a button; only pressing it confirms.
    page.goto(link)
    expect(page.locator("h1")).to_have_text("Newsletter confirmation")
    expect(page.locator("#optin-outcome")).to_have_text(
        "Press the button to confirm that you want our newsletter at the address this link was "
        "sent to."
    )
    assert not ConsentRecord.objects.exists()
    page.get_by_role("button", name="Confirm: send me the newsletter").click()
    expect(page.locator("#optin-outcome")).to_have_attribute("data-outcome", "confirmed")
    expect(page.locator("#optin-outcome")).to_have_text(
        "Thank you: you will receive our newsletter. You can withdraw this consent at any time in "
        "the privacy center or with the link in every newsletter."
    )
    assert posts.take() == [urlsplit(link).path]
    [given] = ConsentRecord.objects.filter(subject_id=user.pk)
    assert (given.action, given.method, given.evidence["how"]) == (
        ConsentAction.GIVEN,
        ConsentMethod.EMAIL_CONFIRMATION,
        "double opt-in",
    )

    page.get_by_role("link", name="Go to the privacy center").click()
    expect_at(page, base, "/privacy/")
    expect_consent_row(
        page,
        "newsletter",
        NEWSLETTER,
        state="Given",
        since=minute(given.at),
        how=CONFIRMED_BY_EMAIL,
        button="Withdraw",
    )
    expect(page.locator("#optin-pending")).to_have_count(0)
    expect_history(
        page, [[minute(given.at), NEWSLETTER, "Given", CONFIRMED_BY_EMAIL, evidence_lines(given)]]
    )

    consent_row(page, "newsletter").get_by_role("button", name=f"Withdraw — {NEWSLETTER}").click()
    expect_messages(page, [f"Consent withdrawn: {NEWSLETTER}."])
    expect_at(page, base, "/privacy/#consents")
    assert posts.take() == ["/privacy/consents/"]
    withdrawn = ConsentRecord.objects.filter(subject_id=user.pk).order_by("at", "pk").last()
    assert withdrawn is not None
    expect_consent_row(
        page,
        "newsletter",
        NEWSLETTER,
        state="Withdrawn",
        since=minute(withdrawn.at),
        how="Preference center",
        button="Give",
    )
    expect(page.locator("table.consent-history thead th")).to_have_text(
        ["When", "Purpose", "What happened", "How", "Evidence"]
    )
    expect_history(
        page,
        [
            [
                minute(withdrawn.at),
                NEWSLETTER,
                "Withdrawn",
                "Preference center",
                evidence_lines(withdrawn),
            ],
            [minute(given.at), NEWSLETTER, "Given", CONFIRMED_BY_EMAIL, evidence_lines(given)],
        ],
    )
    assert ledger(user) == [
        ("newsletter", "given", "email_confirmation"),
        ("newsletter", "withdrawn", "preference_center"),
    ]
    # The used link changes nothing when opened again.
    page.goto(link)
    expect(page.locator("#optin-outcome")).to_have_attribute("data-outcome", "used")
    expect(page.get_by_role("button", name="Confirm: send me the newsletter")).to_have_count(0)
    assert len(ledger(user)) == 2


# 4. Download my data


def test_download_my_data_after_reauthentication_and_open_the_html(
    live_server,
    smtp_server: SmtpServer,
    new_context: ContextFactory,
    no_policy_editions: None,
    tmp_path: Path,
) -> None:
    base = live_server.url
    full_name = "Esme Okafor"
    user = make_user("esme_export", full_name=full_name)
    context = new_context()
    page = context.new_page()
    posts = PostLog(page, base)
    log_in(page, base, user.username)
    # A consent given in the browser, so the archive has a consent history to show.
    page.goto(f"{base}/privacy/")
    consent_row(page, "research").get_by_role("button", name=f"Give — {RESEARCH}").click()
    expect_messages(page, [f"Consent given: {RESEARCH}."])
    posts.take()

    page.goto(f"{base}/privacy/#data")
    expect(page.locator("#download")).to_have_text("Download my data")
    expect(page.locator("#exports")).to_have_count(0)
    page.locator("#export-request-form").get_by_role("button", name="Download my data").click()

    # A sensitive action: the password is asked again, even right after signing in.
    expect_at(page, base, "/accounts/reauthenticate/?next=%2Fprivacy%2Fexport%2F")
    expect(page.locator("h1")).to_have_text("Confirm Access")
    expect(page.get_by_text("Please reauthenticate to safeguard your account.")).to_be_visible()
    assert not DataExport.objects.exists()
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect_messages(
        page,
        [
            "We are preparing your data. We will e-mail you a download link, and it will appear "
            "here, when it is ready."
        ],
    )
    expect_at(page, base, "/privacy/#data")
    assert posts.take() == ["/privacy/export/", "/accounts/reauthenticate/"]
    export = DataExport.objects.get(subject_id=user.pk)
    assert export.status == DataExport.Status.QUEUED
    row = page.locator(f"#export-{export.pk}")
    expect(row.locator(".export-state")).to_have_text("Queued")
    expect(row.get_by_role("button")).to_have_count(0)

    # The worker's part, run here: the live server sees the same database.
    assert run_queued_jobs("build_data_export") == ["ready"]
    export.refresh_from_db()
    assert export.status == DataExport.Status.READY
    assert export.expires_at is not None
    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == [user.email]
    assert mail.subject == "BACKGROUND MUSIC: your data is ready to download"
    [link] = mail.links
    assert link.startswith(f"{base}/privacy/export/download/")

    page.reload()
    expect(row.locator(".export-state")).to_have_text("Ready to download")
    expect(row.locator("td").nth(2)).to_have_text(minute(export.expires_at))
    with page.expect_download() as download_info:
        row.get_by_role("button", name="Download").click()
    download = download_info.value
    assert download.suggested_filename == (
        f"backgroundmusic-data-{export.requested_at:%Y-%m-%d}.zip"
    )
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)

    data, _html = archive_of(saved.read_bytes())
    with zipfile.ZipFile(io.BytesIO(saved.read_bytes())) as archive:
        archive.extract("index.html", tmp_path)
    assert data["account_id"] == user.pk
    records = records_of(data)
    [user_row] = records["accounts.User"]["rows"]
    assert (user_row["username"], user_row["email"]) == (user.username, user.email)
    [profile_row] = records["accounts.Profile"]["rows"]
    assert profile_row["full_name"] == full_name
    [consent] = records["privacy.ConsentRecord"]["rows"]
    assert (consent["purpose"], consent["action"], consent["method"]) == (
        "Depersonalized research and ad targeting by partners",
        "Given",
        "Preference center",
    )

    # The readable copy opens from disk in the browser and names the person.
    reader = context.new_page()
    reader.goto((tmp_path / "index.html").as_uri())
    expect(reader).to_have_title("Your data at BACKGROUND MUSIC")
    expect(reader.locator("h1")).to_have_text("Your data at BACKGROUND MUSIC")
    expect(reader.get_by_role("cell", name=full_name, exact=True)).to_be_visible()
    expect(reader.get_by_role("cell", name=user.email, exact=True).first).to_be_visible()
    reader.close()

    # The download is single-use: the row says so and offers no second download.
    page.reload()
    expect(row.locator(".export-state")).to_have_text("Downloaded")
    expect(row.get_by_role("button")).to_have_count(0)
    export.refresh_from_db()
    assert export.status == DataExport.Status.DOWNLOADED


# 5. Staff publish a new edition; the user sees the notice and the paused consent


def _first_editions_publish() -> PolicyEdition:
    """The project's current texts of both documents, published now as the first editions."""
    latest = {source.kind: source for source in edition_sources()}
    editions = {
        kind: policies.edition_publish(
            actor=None,
            kind=kind,
            version="1.0",
            title_en=source.title_en,
            title_ru=source.title_ru,
            body_en=source.body_en,
            body_ru=source.body_ru,
            change_summary_en="",
            change_summary_ru="",
            effective_at=None,
            material_purposes=[],
        )
        for kind, source in latest.items()
    }
    return editions[DocumentKind.PRIVACY_POLICY]


def test_staff_publish_a_new_edition_and_the_user_sees_the_notice(
    live_server, new_context: ContextFactory
) -> None:
    base = live_server.url
    first = _first_editions_publish()
    user = make_user("fenna_reader")
    # The user signed up under the first editions (accepted the agreement, read the policy).
    policies.signup_agreements_record(
        user=user, request_ip_truncated="127.0.0.0", user_agent_family="Chrome"
    )
    secret = generate_totp_secret()
    officer = StaffFactory.create(
        username="gideon_officer",
        email="gideon.officer@example.com",
        role=StaffRole.PRIVACY_OFFICER,
        totp=False,
        password=PASSWORD,
    )
    TOTP.activate(officer, secret)

    # The user has the newsletter (confirmed by e-mail: test 3 walks through that); no notice
    # yet, everything in force is acknowledged.
    given = consents.consent_give(
        subject=user,
        purpose=ConsentPurpose.NEWSLETTER,
        method=ConsentMethod.EMAIL_CONFIRMATION,
        evidence={"how": "double opt-in"},
    )
    reader = new_context().new_page()
    log_in(reader, base, user.username)
    expect(reader.locator("#policy-notice")).to_have_count(0)
    reader.goto(f"{base}/privacy/")
    expect(consent_row(reader, "newsletter").locator(".consent-state")).to_have_text("Given")
    assert given.edition_hash == first.content_hash

    # The privacy officer signs in with password and authenticator code.
    staff_page = new_context().new_page()
    staff_posts = PostLog(staff_page, base)
    staff_page.goto(f"{base}/accounts/login/")
    staff_page.locator("#id_login").fill(officer.username)
    staff_page.locator("#id_password").fill(PASSWORD)
    staff_page.get_by_role("button", name="Sign In").click()
    expect_at(staff_page, base, "/accounts/2fa/authenticate/")
    expect(staff_page.locator("h1")).to_have_text("Two-Factor Authentication")
    staff_page.locator("#id_code").fill(totp_code(secret))
    staff_page.get_by_role("button", name="Sign In").click()
    expect_messages(staff_page, [f"Successfully signed in as {officer.username}."])
    expect_at(staff_page, base, "/account/profile/")

    staff_page.goto(f"{base}/staff/policies/")
    expect(staff_page.locator("h1")).to_have_text("Policy editions")
    policy_section = staff_page.locator("section.staff-editions[data-kind='privacy_policy']")
    expect(policy_section.locator("tbody tr")).to_have_count(1)
    policy_section.get_by_role(
        "link", name="Start a new edition from the text in force: Privacy policy"
    ).click()
    expect_at(staff_page, base, "/staff/policies/?start=privacy_policy#publish")
    form = staff_page.locator("form.policy-form")
    expect(form.locator("#id_kind")).to_have_value("privacy_policy")
    expect(form.locator("#id_title_en")).to_have_value(first.title_en)
    expect(form.locator("#id_body_en")).to_have_value(first.body_en)

    summary_en = (
        "Newsletters now also carry offers from the studio's partner labels, so your newsletter "
        "consent is paused until you give it again."
    )
    summary_ru = (
        "В рассылку теперь входят и предложения лейблов-партнёров студии, поэтому согласие на "
        "рассылку приостановлено, пока вы не дадите его снова."
    )
    addition_en = "\n\n## Partner offers\n\nNewsletters may include offers of partner labels."
    addition_ru = "\n\n## Предложения партнёров\n\nРассылка может содержать предложения лейблов."
    form.locator("#id_version").fill("2.0")
    form.locator("#id_effective_at").fill("")  # at once
    form.locator("#id_body_en").fill(first.body_en + addition_en)
    form.locator("#id_body_ru").fill(first.body_ru + addition_ru)
    form.locator("#id_change_summary_en").fill(summary_en)
    form.locator("#id_change_summary_ru").fill(summary_ru)
    form.get_by_label(NEWSLETTER, exact=True).check()

    form.get_by_role("button", name="Preview").click()
    # The form posts to its own address (with the #publish anchor): wait for the preview.
    preview = staff_page.locator("#preview")
    expect(preview.locator(":scope > h3")).to_have_text(["Preview: English", "Preview: Russian"])
    assert staff_posts.take()[-1] == "/staff/policies/"
    expect(preview.locator(".policy-body[lang='en'] h2").last).to_have_text("Partner offers")
    expect(preview.locator("p").last).to_have_text(f"Consents that will be paused: {NEWSLETTER}")
    assert PolicyEdition.objects.filter(kind=DocumentKind.PRIVACY_POLICY).count() == 1
    expect(form.locator("#id_version")).to_have_value("2.0")
    expect(form.get_by_label(NEWSLETTER, exact=True)).to_be_checked()

    form.get_by_role("button", name="Publish (cannot be undone)").click()
    expect_messages(staff_page, ["Version 2.0 is published; it can no longer be changed."])
    expect_at(staff_page, base, "/staff/policies/#editions")
    new = PolicyEdition.objects.get(kind=DocumentKind.PRIVACY_POLICY, version="2.0")
    assert (new.published_by_id, new.material_purposes) == (officer.pk, ["newsletter"])
    assert new.body_en == first.body_en + addition_en
    assert current_edition(kind=DocumentKind.PRIVACY_POLICY) == new
    new_row = policy_section.locator("tr[data-version='2.0'] td")
    expect(new_row.nth(3)).to_have_text("newsletter")
    expect(new_row.nth(4)).to_have_text("in force")
    expect(policy_section.locator("tr[data-version='1.0'] td").nth(4)).to_have_text(
        "earlier edition"
    )

    # The user's next page view shows the notice, naming the consent it paused.
    reader.goto(f"{base}/")
    notice = reader.locator("#policy-notice")
    expect(notice).to_be_visible()
    expect(notice).to_have_attribute("data-version", "2.0")
    expect(notice.locator("h2")).to_have_text("A new edition of the privacy policy")
    with translation.override("en"):
        in_force_from = formats.date_format(timezone.localtime(new.effective_at), "DATE_FORMAT")
    expect(notice.locator("p").first).to_have_text(
        f"Privacy policy, version 2.0, is in force from {in_force_from}. What changed:"
    )
    expect(notice.locator(".policy-notice-summary")).to_have_text(summary_en)
    expect(notice.locator("p").nth(2)).to_have_text(
        "Because of this change, these consents of yours are paused until you give them again:"
    )
    expect(notice.locator(".policy-notice-paused li")).to_have_text([NEWSLETTER])
    expect(notice.get_by_role("link", name="Read the new edition")).to_have_attribute(
        "href", "/privacy-policy/editions/2.0/"
    )
    expect(
        notice.get_by_role("link", name="Give them again in the privacy center")
    ).to_have_attribute("href", "/privacy/#consents")

    notice.get_by_role("button", name="I have read it").click()
    expect_messages(
        reader, ["Thank you: we have recorded that you read version 2.0 of the privacy policy."]
    )
    expect_at(reader, base, "/")
    expect(reader.locator("#policy-notice")).to_have_count(0)
    [acknowledged] = PolicyAcceptance.objects.filter(user=user.pk, edition=new)
    assert (acknowledged.action, acknowledged.edition_hash) == (
        AcceptanceAction.ACKNOWLEDGED,
        new.content_hash,
    )

    reader.goto(f"{base}/privacy/")
    expect(reader.locator("#policy-notice")).to_have_count(0)
    suspended = ConsentRecord.objects.filter(subject_id=user.pk).order_by("at", "pk").last()
    assert suspended is not None
    assert (suspended.action, suspended.method, suspended.edition_hash) == (
        ConsentAction.SUSPENDED,
        ConsentMethod.POLICY_CHANGE,
        new.content_hash,
    )
    expect_consent_row(
        reader,
        "newsletter",
        NEWSLETTER,
        state="Suspended by a material policy change",
        since=minute(suspended.at),
        how="Policy change",
        button="Give",
    )
    expect(consent_row(reader, "newsletter").locator(".consent-note")).to_have_text(
        "Suspended because a new edition of the privacy policy changed its terms. Give it "
        "again if you still agree."
    )
    expect_history(
        reader,
        [
            [
                minute(suspended.at),
                NEWSLETTER,
                "Suspended by a material policy change",
                "Policy change",
                [
                    f"Made by the service: edition {new.version} of the privacy policy changed "
                    "the terms of this purpose.",
                    f"Privacy policy in force: edition {new.version}.",
                ],
            ],
            [minute(given.at), NEWSLETTER, "Given", CONFIRMED_BY_EMAIL, evidence_lines(given)],
        ],
    )


# 6. The newsletter box at sign-up: never ticked; ticked, its link follows the verified address


def test_the_newsletter_box_at_sign_up_sends_its_link_once_the_address_is_verified(
    live_server,
    smtp_server: SmtpServer,
    new_context: ContextFactory,
    no_policy_editions: None,
) -> None:
    base = live_server.url
    username, address = "greta_signup", "greta.signup@example.com"
    page = new_context().new_page()
    page.goto(f"{base}/accounts/signup/")
    box = page.locator("#id_newsletter")
    expect(box).not_to_be_checked()
    expect(page.locator("label[for='id_newsletter']")).to_have_text("Send me the newsletter:")
    expect(page.locator("#id_newsletter_helptext")).to_have_text(
        "Optional. Once you have confirmed your e-mail address, we send one more message with a "
        "link: the newsletter starts only when you confirm there. You can stop it at any time."
    )
    page.locator("#id_username").fill(username)
    page.locator("#id_email").fill(address)
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.locator("#id_agreement").check()
    box.check()
    page.get_by_role("button", name="Sign Up").click()
    expect_at(page, base, "/accounts/confirm-email/")

    # First only the address's verification; the newsletter's link waits for it.
    [verification] = smtp_server.wait_for(1)
    assert verification.subject == "BACKGROUND MUSIC: Please Confirm Your Email Address"
    user = User.objects.get(username=username)
    asked = ConsentConfirmation.objects.get(subject_id=user.pk)
    assert (asked.requested_via, asked.address_hash, asked.sent_at) == ("form", "", None)
    assert run_queued_jobs("send_consent_confirmation") == []
    page.goto(verification.links[0])
    page.get_by_role("button", name="Confirm").click()
    expect_at(page, base, "/accounts/login/")

    assert run_queued_jobs("send_consent_confirmation") == ["sent"]
    _verification, optin_mail = smtp_server.wait_for(2)
    assert optin_mail.rcpt_tos == [address]
    assert optin_mail.subject == "BACKGROUND MUSIC: confirm that you want the newsletter"
    assert not ConsentRecord.objects.filter(subject_id=user.pk).exists()

    # Confirmed signed out: the link is the proof.
    page.goto(optin_mail.links[0])
    page.get_by_role("button", name="Confirm: send me the newsletter").click()
    expect(page.locator("#optin-outcome")).to_have_attribute("data-outcome", "confirmed")
    [given] = ConsentRecord.objects.filter(subject_id=user.pk)
    assert (given.method, given.evidence["requested_via"]) == ("email_confirmation", "form")

    log_in(page, base, username)
    page.goto(f"{base}/privacy/")
    expect_consent_row(
        page,
        "newsletter",
        NEWSLETTER,
        state="Given",
        since=minute(given.at),
        how=CONFIRMED_BY_EMAIL,
        button="Withdraw",
    )
