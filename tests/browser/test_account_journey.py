"""A person's first visit, end to end in a real browser, with e-mail through a real SMTP server."""

from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import Page, expect

from backgroundmusic.accounts.models import Profile, PublicProfileChoice, User
from tests.browser.conftest import ContextFactory
from tests.smtp_server import SmtpServer

pytestmark = [
    pytest.mark.browser,
    # Every page sends analytics beacons, which reach the analytics database.
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

USERNAME = "alice_walker"
EMAIL = "alice.walker@example.com"
PASSWORD = "violet-harbour-1987"
UNCONFIRMED_USERNAME = "bruno_lane"
UNCONFIRMED_EMAIL = "bruno.lane@example.com"

PROFILE_INPUT = {
    "#id_full_name": "Alice Walker",
    "#id_address_country": "Netherlands",
    "#id_address_region": "North Holland",
    "#id_address_city": "Amsterdam",
    "#id_address_street": "Prinsengracht 263",
    "#id_address_postcode": "1016 GV",
    "#id_links-0-url": "https://music.example/alice",
}
INSECURE_LINK = "http://insecure.example"
SECURE_LINK = "https://secure.example/alice"
LINK_ERROR = "Enter a full link starting with https://, e.g. https://example.com/you."


def messages(page: Page) -> list[str]:
    # Pages are navigated with htmx (hx-boost); a form posted back to its own URL is swapped in
    # without a URL change, so wait until no navigation is under way (player.js sets aria-busy).
    expect(page.locator("body")).not_to_have_attribute("aria-busy", "true")
    return [text.strip() for text in page.locator("ul.messages li").all_inner_texts()]


def expect_field_error(page: Page, field_id: str, message: str) -> None:
    """The error is shown next to the field: right before the input, which points at it."""
    field = page.locator(f"#{field_id}")
    beside = field.locator("xpath=preceding-sibling::*[1]")
    expect(beside).to_have_attribute("id", f"{field_id}_error")
    expect(beside).to_have_class("errorlist")
    expect(beside).to_have_text(message)
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_attribute("aria-describedby", f"{field_id}_error")


def sign_up(page: Page, base: str, username: str = USERNAME, email: str = EMAIL) -> None:
    page.goto(f"{base}/accounts/signup/")
    page.locator("#id_username").fill(username)
    page.locator("#id_email").fill(email)
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.locator("#id_agreement").check()
    page.get_by_role("button", name="Sign Up").click()
    page.wait_for_url(f"{base}/accounts/confirm-email/")
    expect(page.locator("h1")).to_have_text("Verify Your Email Address")


def log_in(page: Page, base: str, login: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.locator("#id_login").fill(login)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{base}/account/profile/")


def log_out(page: Page, base: str) -> None:
    page.locator("header form[action='/accounts/logout/'] button").click()
    page.wait_for_url(f"{base}/")
    assert messages(page) == ["You have signed out."]
    expect(page.locator("header nav").get_by_role("link", name="Log in")).to_be_visible()


def test_sign_up_confirm_log_in_fill_profile_publish_and_log_out(
    live_server, smtp_server: SmtpServer, new_context: ContextFactory
) -> None:
    base = live_server.url
    host = urlsplit(base).netloc
    page = new_context().new_page()

    sign_up(page, base)
    expect(page.get_by_text(f"Confirmation email sent to {EMAIL}.")).to_be_visible()

    # The verification e-mail arrives at the SMTP server.
    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == [EMAIL]
    assert mail.mail_from == "noreply@backgroundmusic.local"
    assert mail.message["From"] == "BACKGROUND MUSIC <noreply@backgroundmusic.local>"
    assert mail.message["To"] == EMAIL
    assert mail.subject == "BACKGROUND MUSIC: Please Confirm Your Email Address"
    assert mail.text.startswith("Hello from BACKGROUND MUSIC!")
    assert (
        f"You're receiving this email because user {USERNAME} has given your email address "
        f"to register an account on {host}." in mail.text
    )
    [link] = mail.links
    assert link.startswith(f"{base}/accounts/confirm-email/")

    # Not confirmed yet.
    user = User.objects.get(username=USERNAME)
    assert EmailAddress.objects.get(user=user).verified is False

    # Confirm the address from the link in the e-mail.
    page.goto(link)
    expect(page.locator("h1")).to_have_text("Confirm Email Address")
    expect(page.locator("main, body").first).to_contain_text(
        f"Please confirm that {EMAIL} is an email address for user {USERNAME}."
    )
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(f"{base}/accounts/login/")
    expect(page.get_by_text(f"You have confirmed {EMAIL}.")).to_be_visible()
    assert EmailAddress.objects.get(user=user).verified is True
    assert len(smtp_server.messages) == 1

    # Log in by username; the login redirect is the profile page.
    log_in(page, base, USERNAME)
    assert messages(page) == [f"Successfully signed in as {USERNAME}."]
    expect(page.locator("h1")).to_have_text("Your profile")
    expect(page.locator("#current-email")).to_have_text(EMAIL)
    expect(page.locator("#id_username")).to_have_value(USERNAME)

    # Fill the profile with one invalid field: nothing is saved, nothing typed is lost.
    for selector, value in PROFILE_INPUT.items():
        page.locator(selector).fill(value)
    page.locator("#id_links-1-url").fill(INSECURE_LINK)
    page.get_by_role("button", name="Save profile").click()
    page.wait_for_url(f"{base}/account/profile/")
    assert messages(page) == ["The profile was not saved: please correct the marked fields."]
    expect_field_error(page, "id_links-1-url", LINK_ERROR)
    expect(page.locator("#profile-form .errorlist")).to_have_count(1)
    for selector, value in PROFILE_INPUT.items():
        expect(page.locator(selector)).to_have_value(value)
    expect(page.locator("#id_links-1-url")).to_have_value(INSECURE_LINK)
    expect(page.locator("#id_username")).to_have_value(USERNAME)
    expect(page.locator("#id_account_type_0")).to_be_checked()
    expect(page.locator("#id_company_name")).to_have_value("")
    expect(page.locator("#id_tax_id")).to_have_value("")
    profile = Profile.objects.get(user=user)
    assert (profile.full_name, profile.address_city, profile.social_links.count()) == ("", "", 0)

    # Correct it and save.
    page.locator("#id_links-1-url").fill(SECURE_LINK)
    page.get_by_role("button", name="Save profile").click()
    page.wait_for_url(f"{base}/account/profile/")
    assert messages(page) == ["Your profile is saved."]
    expect(page.locator("#profile-form .errorlist")).to_have_count(0)
    for selector, value in PROFILE_INPUT.items():
        expect(page.locator(selector)).to_have_value(value)
    expect(page.locator("#id_links-1-url")).to_have_value(SECURE_LINK)
    # Two saved links and two empty rows for more.
    expect(page.locator("input[name$='-url']")).to_have_count(4)
    expect(page.locator("#id_links-2-url")).to_have_value("")
    profile = Profile.objects.get(user=user)
    assert (
        profile.full_name,
        profile.account_type,
        profile.address_country,
        profile.address_region,
        profile.address_city,
        profile.address_street,
        profile.address_postcode,
        profile.company_name,
        profile.tax_id,
    ) == (
        "Alice Walker",
        "natural",
        "Netherlands",
        "North Holland",
        "Amsterdam",
        "Prinsengracht 263",
        "1016 GV",
        "",
        "",
    )
    assert [link.url for link in profile.social_links.all()] == [
        "https://music.example/alice",
        SECURE_LINK,
    ]

    # Publish exactly two fields: the full name and the social links.
    page.goto(f"{base}/account/profile/public/")
    expect(page.locator("h1")).to_have_text("Public profile settings")
    form = page.locator("#public-profile-form")
    form.get_by_label("Publish my profile at its public address").check()
    form.get_by_label("Full name", exact=True).check()
    form.get_by_label("Social-network links", exact=True).check()
    expect(form.get_by_label("City and country", exact=True)).not_to_be_checked()
    expect(form.get_by_label("Company name", exact=True)).not_to_be_checked()
    expect(form.get_by_label("Let search engines index my public profile")).not_to_be_checked()
    form.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{base}/account/profile/public/")
    assert messages(page) == ["Your public profile settings are saved."]
    public_url = f"{base}/u/{USERNAME}/"
    expect(page.get_by_role("link", name=public_url)).to_have_attribute("href", f"/u/{USERNAME}/")
    expect(page.locator("table tbody tr")).to_have_count(1)
    expect(page.locator("table tbody tr td").nth(1)).to_have_text("Published")
    expect(page.locator("table tbody tr td").nth(2)).to_have_text("full_name, social_links")
    profile = Profile.objects.get(user=user)
    assert (profile.is_published, profile.is_indexable, profile.public_fields) == (
        True,
        False,
        ["full_name", "social_links"],
    )
    assert list(PublicProfileChoice.objects.filter(user=user).values_list("action", flat=True)) == [
        "published"
    ]

    # A visitor who is not logged in sees exactly those two fields, and no invitation to index.
    visitor = new_context().new_page()
    response = visitor.goto(public_url)
    assert response is not None
    assert response.status == 200
    assert response.headers["x-robots-tag"] == "noindex, nofollow"
    expect(visitor.locator("meta[name='robots']")).to_have_attribute("content", "noindex, nofollow")
    expect(visitor.locator("meta[name='robots']")).to_have_count(1)
    expect(visitor.locator("article.public-profile h1")).to_have_text("Alice Walker")
    expect(visitor.locator(".social-links a")).to_have_text(
        ["https://music.example/alice", SECURE_LINK]
    )
    expect(visitor.locator(".social-links a").first).to_have_attribute(
        "href", "https://music.example/alice"
    )
    expect(visitor.locator("#public-location")).to_have_count(0)
    expect(visitor.locator("#public-company")).to_have_count(0)
    for private in ("Amsterdam", "Netherlands", "North Holland", "Prinsengracht", "1016 GV", EMAIL):
        assert private not in visitor.content()
    expect(visitor.locator("header nav").get_by_role("link", name="Log in")).to_be_visible()

    # Log out with the POST form in the header; the profile is then behind the login again.
    page.goto(f"{base}/account/profile/")
    log_out(page, base)
    page.goto(f"{base}/account/profile/")
    page.wait_for_url(f"{base}/accounts/login/?next=/account/profile/")

    # Logging in by e-mail address works as well (the address is matched case-insensitively).
    log_in(page, base, EMAIL.upper())
    assert messages(page) == [f"Successfully signed in as {USERNAME}."]
    expect(page.locator("#id_full_name")).to_have_value("Alice Walker")
    log_out(page, base)
    assert len(smtp_server.messages) == 1


def test_unconfirmed_address_cannot_log_in(
    live_server, smtp_server: SmtpServer, new_context: ContextFactory
) -> None:
    base = live_server.url
    page = new_context().new_page()
    # Its own address: allauth's per-address confirmation cooldown outlives the other test.
    sign_up(page, base, UNCONFIRMED_USERNAME, UNCONFIRMED_EMAIL)
    smtp_server.wait_for(1)

    page.goto(f"{base}/accounts/login/")
    page.locator("#id_login").fill(UNCONFIRMED_USERNAME)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    # Mandatory verification: no session starts, the person is sent back to confirm first.
    page.wait_for_url(f"{base}/accounts/confirm-email/")
    expect(page.locator("h1")).to_have_text("Verify Your Email Address")
    # allauth re-sends the confirmation at most once every 3 minutes per address; the mail is
    # sent within the request, so a second one would already be here.
    assert [mail.rcpt_tos for mail in smtp_server.messages] == [[UNCONFIRMED_EMAIL]]
    page.goto(f"{base}/account/profile/")
    page.wait_for_url(f"{base}/accounts/login/?next=/account/profile/")
