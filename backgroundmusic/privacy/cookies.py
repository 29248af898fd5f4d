"""The cookie register: every cookie the site sets, and the consent-state cookie itself.

/cookies/ shows this list, so a cookie the site starts setting must be added here (a test walks
the main pages and fails on any cookie not listed). Only the "essential" category may be set
before the visitor has chosen; the analytics category only after they accepted it.

The consent-state cookie "bm_consent" remembers the visitor's choice. Its value is signed
(Django's signed cookies) and reads like "analytics:0|v:1|id:<22 characters>": the choice for
each non-essential category, the version of this register it was made against, and the random
id under which the server keeps the proof of the choice (VisitorCookieChoice, written by
privacy/cookie_choices.py). A cookie set before ids existed has none and still counts; its next
choice gets one. Raising REGISTER_VERSION (when a new non-essential category appears) asks
everyone again.
"""

import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponseBase
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

CONSENT_COOKIE = "bm_consent"
ANALYTICS_COOKIE = "bm_aid"
REGISTER_VERSION = 1
# 13 months: the longest a consent choice is remembered before the visitor is asked again.
CONSENT_COOKIE_AGE = 395 * 24 * 60 * 60
ANALYTICS_COOKIE_AGE = 395 * 24 * 60 * 60
_SALT = "privacy.cookies.consent"
# secrets.token_urlsafe(16): 22 characters of the URL-safe base64 alphabet.
CHOICE_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{22}")

# The wording of the two places a visitor chooses, quoted in the evidence of the choice: the
# banner's text (Accept all / Reject all) and the analytics question of the cookies page.
BANNER_WORDING = _(
    "We use the cookies the site needs to work. With your consent we also use one analytics "
    "cookie to see which pages help and how long they are read. It is never shared or used for "
    "advertising."
)
PREFERENCE_WORDING = _(
    "One first-party cookie (bm_aid) that lets our own statistics tell visits apart."
)


class CookieCategory(StrEnum):
    ESSENTIAL = "essential"
    ANALYTICS = "analytics"


CATEGORY_LABELS = {
    CookieCategory.ESSENTIAL: _("Essential"),
    CookieCategory.ANALYTICS: _("Analytics (only with your consent)"),
}


@dataclass(frozen=True)
class Cookie:
    name: str
    category: CookieCategory
    purpose: Promise
    # Seconds, or None for a cookie that ends when the browser is closed.
    max_age: int | None
    set_when: Promise

    @property
    def lifetime(self) -> str:
        return lifetime_text(self.max_age)


def lifetime_text(max_age: int | None) -> str:
    if max_age is None:
        return str(_("Until the browser is closed"))
    days = max_age // (24 * 60 * 60)
    if days >= 1:
        return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}
    hours = max(1, max_age // 3600)
    return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}


def cookie_register() -> list[Cookie]:
    """Every cookie the site sets, read from the settings that govern them."""
    return [
        Cookie(
            name=settings.SESSION_COOKIE_NAME,
            category=CookieCategory.ESSENTIAL,
            purpose=_("Keeps you signed in and carries the state of a form across pages."),
            max_age=None
            if settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
            else int(settings.SESSION_COOKIE_AGE),
            set_when=_("When you sign in or start something that needs a session."),
        ),
        Cookie(
            name=settings.CSRF_COOKIE_NAME,
            category=CookieCategory.ESSENTIAL,
            purpose=_("Protects forms against cross-site request forgery."),
            max_age=int(settings.CSRF_COOKIE_AGE),
            set_when=_("On any page with a form."),
        ),
        Cookie(
            name=getattr(settings, "MESSAGE_COOKIE_NAME", "messages"),
            category=CookieCategory.ESSENTIAL,
            purpose=_("Carries a one-time notice, such as “Saved”, to the next page."),
            max_age=None,
            set_when=_("After an action that shows a notice; removed once shown."),
        ),
        Cookie(
            name=CONSENT_COOKIE,
            category=CookieCategory.ESSENTIAL,
            purpose=_("Remembers your cookie choice, so we do not ask again on every page."),
            max_age=CONSENT_COOKIE_AGE,
            set_when=_("When you accept, reject or save your cookie choice."),
        ),
        Cookie(
            name=settings.LANGUAGE_COOKIE_NAME,
            category=CookieCategory.ESSENTIAL,
            # A preference the visitor set themselves: a cookie that only carries out an explicit
            # request of the visitor needs no consent (ePrivacy art. 5(3) exemption).
            purpose=_(
                "Remembers the language you chose. Set only when you switch the language yourself."
            ),
            max_age=settings.LANGUAGE_COOKIE_AGE,
            set_when=_("When you switch the language."),
        ),
        Cookie(
            name=ANALYTICS_COOKIE,
            category=CookieCategory.ANALYTICS,
            purpose=_(
                "A random identifier that lets our own statistics tell your visits apart "
                "(pages visited and time spent on them). Never shared."
            ),
            max_age=ANALYTICS_COOKIE_AGE,
            set_when=_("Only after you accept analytics cookies; deleted when you withdraw."),
        ),
    ]


def cookie_names(*, category: CookieCategory) -> set[str]:
    return {cookie.name for cookie in cookie_register() if cookie.category == category}


@dataclass(frozen=True)
class CookieChoice:
    analytics: bool
    version: int = REGISTER_VERSION
    # The server's record of the choice (VisitorCookieChoice.choice_id); "" in an older cookie.
    choice_id: str = ""


def new_choice_id() -> str:
    return secrets.token_urlsafe(16)


def _encode(choice: CookieChoice) -> str:
    value = f"analytics:{int(choice.analytics)}|v:{choice.version}"
    return f"{value}|id:{choice.choice_id}" if choice.choice_id else value


def _decode(value: str) -> CookieChoice | None:
    try:
        parts = dict(part.split(":", 1) for part in value.split("|"))
        analytics, version = parts["analytics"], int(parts["v"])
    except (KeyError, ValueError):
        return None
    if analytics not in ("0", "1"):
        return None
    choice_id = parts.get("id", "")
    if choice_id and not CHOICE_ID_PATTERN.fullmatch(choice_id):
        return None
    return CookieChoice(analytics=analytics == "1", version=version, choice_id=choice_id)


def cookie_choice(request: HttpRequest) -> CookieChoice | None:
    """The visitor's choice for this version of the register; None when they have not chosen
    (no cookie, a cookie tampered with, expired or made against an older register)."""
    raw = request.get_signed_cookie(
        CONSENT_COOKIE, default=None, salt=_SALT, max_age=CONSENT_COOKIE_AGE
    )
    if raw is None:
        return None
    choice = _decode(raw)
    if choice is None or choice.version != REGISTER_VERSION:
        return None
    return choice


def cookie_choice_store(
    response: HttpResponseBase, *, analytics: bool, choice_id: str = ""
) -> None:
    """Writes the choice (and the id of its record on the server, if any) into the response, and
    deletes every cookie of a refused category."""
    response.set_signed_cookie(
        CONSENT_COOKIE,
        _encode(CookieChoice(analytics=analytics, choice_id=choice_id)),
        salt=_SALT,
        max_age=CONSENT_COOKIE_AGE,
        secure=settings.HTTPS,
        httponly=True,
        samesite="Lax",
    )
    if not analytics:
        for name in sorted(cookie_names(category=CookieCategory.ANALYTICS)):
            response.delete_cookie(name, samesite="Lax")


def signed_choice_value(*, analytics: bool, choice_id: str = "") -> str:
    """The cookie value a browser holds after this choice (for tests and browser journeys)."""
    return signing.get_cookie_signer(salt=CONSENT_COOKIE + _SALT).sign(
        _encode(CookieChoice(analytics=analytics, choice_id=choice_id))
    )
