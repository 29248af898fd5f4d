"""Every page fits a 390 px phone and a 1366 px laptop, in English and Russian, with the longest
values the site accepts: nothing makes the page scroll sideways.

The pages are the named routes of the URL conf. Those that take no argument are each visited or
excluded here with a reason (test_every_page_without_arguments_is_measured), so a new page is
measured from the day it is added; those that take one are visited with the scene's objects.
"""

import re
import time
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from playwright.sync_api import Browser, BrowserContext, Page
from playwright.sync_api import Error as PlaywrightError

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.catalog.tests.fixtures import make_facets, ready_track
from backgroundmusic.core import clock
from backgroundmusic.incidents import services as incidents
from backgroundmusic.incidents.tests.scene import FACTS
from backgroundmusic.library import services as library
from backgroundmusic.library.models import PLAYLIST_NAME_MAX_LENGTH
from backgroundmusic.mailing import services as mailing
from backgroundmusic.mailing.tests.scene import TEXT
from backgroundmusic.privacy import demo as privacy_demo
from backgroundmusic.privacy.kernel.access_log import access_log_record
from backgroundmusic.privacy.kernel.models import ENTRY_REASON_MAX_LENGTH
from backgroundmusic.privacy.models import (
    DataSubjectRequest,
    DocumentKind,
    PolicyEdition,
    RequestKind,
)
from backgroundmusic.privacy.requests import request_log
from backgroundmusic.staffroles.roles import StaffRole
from tests.browser.licensing_scene import creator_subscription, plans_on_sale

pytestmark = pytest.mark.browser

WIDTHS = (390, 1366)
LOCALES = ("en-US", "ru-RU")
USERNAME_MAX = 150  # AbstractUser.username
# The longest values the site takes: a username and a title without a space to wrap at, a title
# of words that wraps past two lines.
LONG_USERNAME = "listener_" + "x" * (USERNAME_MAX - len("listener_"))
LONG_TITLE = ("Morning light over the quiet harbour of Saint Petersburg " * 4)[:200].strip()
UNBROKEN_TITLE = "Nocturne" + "x" * 192

# Named routes without arguments that are not pages a person reads, and why.
NOT_MEASURED = {
    "healthz": "a plain-text health check for the load balancer",
    "media:stream_url": "JSON: a fresh stream URL for the player",
    "metrics": "plain text for Prometheus, with its token only",
    "sitemap": "XML for search engines",
    "robots_txt": "plain text for search engines",
    "favicon": "an icon",
    "set_language": "POST only: the language switcher's form",
    "javascript-catalog": "a script",
    "library:favourites_stylesheet": "a stylesheet",
    "account_logout": "its confirmation is one button; signing out would end the scene's session",
    "account_inactive": "allauth shows it only after signing in to a deactivated account",
    "account_reauthenticate": "the scene's sessions are fresh, so it redirects",
    "account_email_verification_sent": "shown only right after sign-up",
    "account_set_password": "redirects: every account in the scene has a password",
    "account_confirm_login_code": "shown only during a sign-in by code",
    "account_reset_password_from_key_done": "a one-line message after a password reset",
    "mfa_authenticate": "shown only during a staff sign-in",
    "mfa_reauthenticate": "shown only when a staff action asks for the code again",
    "mfa_activate_totp": "the staff in the scene already have an authenticator",
    "mfa_deactivate_totp": "staff may not remove their authenticator",
    "mfa_view_recovery_codes": "redirects to reauthentication",
    "mfa_generate_recovery_codes": "redirects to reauthentication",
    "mfa_download_recovery_codes": "a text file",
    "privacy:cookies_choice": "POST only: the cookie banner's form",
    "staff:access_log_verify": "POST only: the access log's Verify chain button",
    "privacy:public_request_code": "shown only after the request form sent a code",
    "privacy:public_request_done": "shown only after a request was confirmed",
    "privacy:policy_acknowledge": "POST only: the policy notice's button",
    "privacy:delete_done": "shown only once the account is gone",
    "privacy:consents": "POST only: the privacy center's consent switches",
    "privacy:restriction": "POST only: the privacy center's restriction switch",
    "privacy:export_request": "POST only: the privacy center's export button",
    "licensing:cart_add": "POST only: the buttons that add to the cart",
    "library:entry_add": "POST only: the track page's Add to playlist",
    "licensing:checkout": "redirects to the cart when the cart is empty",
    "analytics_staff:dashboard_csv": "a CSV file",
    "api:openapi-json": "JSON",
    "api:openapi-view": "the API reference, measured by test_api_docs",
    "api:tracks": "JSON",
    "api:collections": "JSON",
    "api:plans": "JSON",
    "api:my_agreements": "JSON",
    "api:my_orders": "JSON",
    "api:my_downloads": "JSON",
    "api:my_favourites": "JSON",
    "api:my_playlists": "JSON",
    "api:playlist_post": "JSON",
    "api:api-root": "JSON",
}


def _named_routes(patterns: list, prefix: str = "", namespace: str = "") -> list[tuple[str, str]]:
    """(route, name) of every named route, with its namespace, outside the admin and anymail."""
    found = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            route = prefix + str(pattern.pattern)
            if route.startswith(("admin/", "anymail/")):
                continue
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            found += _named_routes(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            found.append((prefix + str(pattern.pattern), name))
    return found


def _without_arguments(route: str) -> bool:
    return "<" not in route and "(?P" not in route


PAGES: dict[str, list[str]] = {
    "signed out": [
        "/",
        "/catalog/",
        "/catalog/?genre=ambient&sort=title",
        "/catalog/{track}/",
        "/catalog/collections/",
        "/contact/",
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password/reset/",
        "/accounts/password/reset/done/",
        "/cookies/",
        "/privacy/processing/",
        "/privacy/request/",
        "/privacy-policy/",
        "/privacy-policy/editions/",
        "/privacy-policy/editions/{policy}/",
        "/terms-of-use/",
        "/terms-of-use/editions/",
        "/terms-of-use/editions/{terms}/",
        "/pricing/",
        "/pricing/venue/",
        "/pricing/single-track/?track={track}",
        "/licence-terms/",
        "/verify/{certificate}/",
    ],
    "customer": [
        "/",
        "/account/profile/",
        "/account/profile/public/",
        "/accounts/email/",
        "/accounts/password/change/",
        "/accounts/sessions/",
        "/accounts/2fa/",
        "/privacy/",
        "/privacy/delete/",
        "/catalog/",
        "/cart/",
        "/orders/",
        "/orders/{order}/",
        "/licences/",
        "/licences/{agreement}/",
        "/licences/{agreement}/agreement/",
        "/licences/{agreement}/certificate/",
        "/licences/{agreement}/coverage/",
        "/licences/{agreement}/renew/",
        "/account/favourites/",
        "/account/playlists/",
        "/account/playlists/{playlist}/",
    ],
    "privacy officer": [
        "/staff/",
        "/staff/?q={customer}",
        "/staff/people/{customer_id}/",
        "/staff/access-log/",
        "/staff/audit/",
        "/staff/requests/",
        "/staff/requests/new/",
        "/staff/requests/{request}/",
        "/staff/disclosures/",
        "/staff/disclosures/new/",
        "/staff/recipients/",
        "/staff/transfers/",
        "/staff/legal-holds/",
        "/staff/policies/",
        "/staff/analytics/",
        "/staff/analytics/research/",
        "/staff/incidents/",
        "/staff/incidents/new/",
        "/staff/incidents/{incident}/",
    ],
    "administrator": [
        "/staff/catalogue/",
        "/staff/catalogue/tracks/new/",
        "/staff/catalogue/tracks/{track_id}/",
        "/staff/catalogue/collections/",
        "/staff/catalogue/collections/new/",
        "/staff/catalogue/facets/",
        "/staff/catalogue/masters/",
    ],
    "licensing manager": [
        "/staff/licensing/plans/",
        "/staff/licensing/plans/new/",
        "/staff/licensing/plans/terms/new/",
        "/staff/licensing/plans/venue/editions/new/",
        "/staff/licensing/agreements/",
        "/staff/licensing/agreements/{agreement}/",
        "/staff/licensing/orders/",
        "/staff/licensing/orders/{order}/",
    ],
    "newsletter editor": [
        "/staff/mailing/",
        "/staff/mailing/new/",
        "/staff/mailing/{campaign}/",
        "/staff/mailing/{campaign}/edit/",
    ],
}


@dataclass(frozen=True)
class Scene:
    visitors: dict[str, User | None]
    objects: dict[str, object]


def _scene() -> Scene:
    """The scene's objects at their longest, and who visits."""
    assert User._meta.get_field("username").max_length == USERNAME_MAX
    make_facets()
    plans_on_sale()
    privacy_demo.demo_editions_publish()
    privacy_demo.demo_recipients_create()
    ready_track(title=LONG_TITLE, genres=["ambient"], preview_seconds=1.0, duration_seconds=754)
    track = ready_track(
        title=UNBROKEN_TITLE, genres=["ambient"], preview_seconds=1.0, duration_seconds=3599
    )
    customer = UserFactory.create(username=LONG_USERNAME)
    agreement = creator_subscription(customer, full_name="Anna " + "Petrova" * 20)
    order = agreement.order_line.order
    officer = StaffFactory.create(role=StaffRole.PRIVACY_OFFICER, username="o" * USERNAME_MAX)
    access_log_record(
        actor=officer,
        subject_id=customer.pk,
        fields=["email"],
        reason="T" * ENTRY_REASON_MAX_LENGTH,
    )
    request = request_log(
        actor=officer,
        kind=RequestKind.ACCESS,
        channel=DataSubjectRequest.Channel.EMAIL,
        received_at=clock.now() - timedelta(days=1),
        subject=customer,
        requester_contact=f"{LONG_USERNAME}@example.org",
    )
    library.favourite_add(person=customer, slug=track.slug)
    playlist = library.playlist_create(person=customer, name="P" * PLAYLIST_NAME_MAX_LENGTH)
    library.playlist_entry_add(person=customer, playlist_id=playlist.pk, slug=track.slug)
    incident = incidents.incident_open(actor=officer, facts=FACTS)
    editor = StaffFactory.create(role=StaffRole.NEWSLETTER_EDITOR)
    campaign = mailing.campaign_create(actor=editor, text=TEXT)
    policy = PolicyEdition.objects.filter(kind=DocumentKind.PRIVACY_POLICY).first()
    terms = PolicyEdition.objects.filter(kind=DocumentKind.TERMS_OF_USE).first()
    assert policy is not None and terms is not None
    return Scene(
        visitors={
            "signed out": None,
            "customer": customer,
            "privacy officer": officer,
            "administrator": StaffFactory.create(role=StaffRole.ADMINISTRATOR),
            "licensing manager": StaffFactory.create(role=StaffRole.LICENSING_MANAGER),
            "newsletter editor": editor,
        },
        objects={
            "track": track.slug,
            "track_id": track.pk,
            "policy": policy.version,
            "terms": terms.version,
            "certificate": agreement.certificate.public_id,
            "order": order.public_id,
            "agreement": agreement.number,
            "customer": customer.username,
            "customer_id": customer.pk,
            "request": request.pk,
            "incident": incident.pk,
            "campaign": campaign.pk,
            "playlist": playlist.pk,
        },
    )


# The element reaching furthest past the right edge (the innermost of those reaching as far),
# outside any box that scrolls on its own.
WIDEST = """
() => {
  const width = document.documentElement.clientWidth;
  const scrolls = (el) => {
    for (let up = el.parentElement; up; up = up.parentElement) {
      if (up === document.documentElement) return false;
      const overflow = getComputedStyle(up).overflowX;
      if (overflow !== 'visible') return true;
    }
    return false;
  };
  let widest = null, right = width;
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    const further = box.right > right + 0.5;
    const inside = widest && box.right > right - 0.5 && widest.contains(el);
    if ((further || inside) && !scrolls(el)) { widest = el; right = Math.max(right, box.right); }
  }
  if (!widest) return '(none found)';
  const name = widest.tagName.toLowerCase() + (widest.id ? '#' + widest.id : '') +
    [...widest.classList].map((c) => '.' + c).join('');
  return `${name} to ${Math.round(right)} px: ${(widest.textContent || '').trim().slice(0, 60)}`;
}
"""


def _sign_in(context: BrowserContext, base: str, user: User) -> None:
    """Signed in and asked for the password again just now (allauth's record of it), so the
    pages that ask for a recent sign-in (deleting the account) show themselves."""
    client = Client()
    client.force_login(user)
    session = client.session
    session["account_authentication_methods"] = [
        {"method": "password", "at": time.time(), "reauthenticated": True}
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
    )


def _overflows(page: Page, base: str, path: str, label: str) -> list[str]:
    found = []
    try:
        response = page.goto(base + path)
    except PlaywrightError as error:
        return [f"{path} ({label}): {error.message.splitlines()[0]}"]
    assert response is not None
    if response.status != 200 or page.url != base + path:
        return [f"{path} ({label}): answered {response.status} at {page.url}"]
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        scroll, client = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if scroll > client:
            widest = page.evaluate(WIDEST)
            found.append(f"{path} ({label}, {width} px): {scroll} px wide; widest {widest}")
    return found


# Each track title in the list: at most two lines, the whole title its text and its title.
TITLES = """
() => [...document.querySelectorAll('.track-title')].map((link) => {
  const lines = link.getBoundingClientRect().height / parseFloat(getComputedStyle(link).lineHeight);
  const text = link.textContent.trim();
  const fits = lines < 2.1 && link.title === text;
  return fits ? '' : `${text.slice(0, 30)}: ${lines.toFixed(1)} lines, title "${link.title}"`;
}).filter(Boolean)
"""
# The player's controls inside the phone's width, and its time not cut off (the title ends in an
# ellipsis when it must; the whole title is its text and its title).
PLAYER = """
() => {
  const width = document.documentElement.clientWidth;
  return [...document.querySelectorAll('#player > :not(audio)')].filter((part) => {
    const box = part.getBoundingClientRect();
    const cut = part.classList.contains('player-time') && part.scrollWidth > part.clientWidth;
    return box.left < 0 || box.right > width + 0.5 || cut;
  }).map((part) => part.className);
}
"""


def _catalogue_on_the_phone(page: Page, base: str, label: str) -> list[str]:
    """The list's titles are clamped, and the player playing the longest title shows its time
    at its widest."""
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(base + "/catalog/?sort=title")
    found = [f"/catalog/ ({label}, 390 px): title {title}" for title in page.evaluate(TITLES)]
    page.locator(".track-row", has_text=LONG_TITLE[:40]).locator("button.play-preview").click()
    page.locator("#player").wait_for(state="visible")
    page.locator("#player .player-time").evaluate(
        "(time) => { time.textContent = '59:59 / 59:59'; }"
    )
    found += [f"/catalog/ ({label}, 390 px): player's {part}" for part in page.evaluate(PLAYER)]
    return found


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_every_page_fits_the_phone_and_the_laptop(live_server, browser: Browser):
    scene = _scene()
    base = live_server.url
    found = []
    for locale in LOCALES:
        for visitor, paths in PAGES.items():
            context = browser.new_context(locale=locale, viewport={"width": 390, "height": 800})
            context.set_default_timeout(10_000)
            context.route("**/a/e", lambda route: route.fulfill(status=204))
            user = scene.visitors[visitor]
            if user is not None:
                _sign_in(context, base, user)
            page = context.new_page()
            label = f"{visitor}, {locale[:2]}"
            for path in paths:
                found += _overflows(page, base, path.format(**scene.objects), label)
            if user is None:
                found += _catalogue_on_the_phone(page, base, label)
            context.close()
    assert not found, "\n".join(found)


def test_every_page_without_arguments_is_measured():
    """A named GET page without arguments is measured by the test above, or named in
    NOT_MEASURED with the reason; and NOT_MEASURED names only routes that exist."""
    routes = _named_routes(get_resolver().url_patterns)
    names = {name for _route, name in routes}
    without_arguments = {name for route, name in routes if _without_arguments(route)}
    measured = {
        resolve(re.sub(r"\{\w+\}", "1", path).split("?")[0]).view_name
        for paths in PAGES.values()
        for path in paths
    }
    assert sorted(without_arguments - measured - NOT_MEASURED.keys()) == []
    assert sorted(NOT_MEASURED.keys() - names) == []
    assert sorted(NOT_MEASURED.keys() & measured) == []
