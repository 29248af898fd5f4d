"""What the service may keep about a request's origin: truncated IP, browser family. Never more."""

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache

from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ua_parser import parse

UNKNOWN = "unknown"


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, which core.middleware.ForwardedClientMiddleware has
    set to the address our proxies saw (PROXY_COUNT). The one reading of it for the whole
    project: the rate limits, evidence, django-axes (AXES_CLIENT_IP_CALLABLE); allauth reads
    REMOTE_ADDR itself."""
    return str(request.META.get("REMOTE_ADDR", ""))


# What an address may be written with, at most as long as the longest form, an IPv6 address with
# an IPv4 tail ("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"): no brackets, port or zone.
_ADDRESS_TEXT = re.compile(r"[0-9A-Fa-f:.]{2,45}")


def forwarded_client_address(forwarded_for: str, proxy_count: int) -> str | None:
    """The address the outermost of proxy_count proxies of ours saw the request come from: the
    proxy_count-th entry of X-Forwarded-For from the right, as each proxy appends the address it
    saw (nginx's $proxy_add_x_forwarded_for). Whatever the client wrote to the left of those is
    never read, however long. None when there are fewer entries or that one is not a plain IPv4
    or IPv6 address; an IPv4 address written as IPv6 (::ffff:a.b.c.d) comes out as IPv4."""
    if proxy_count < 1:
        return None
    entries = forwarded_for.rsplit(",", proxy_count)
    if len(entries) < proxy_count:
        return None
    entry = entries[-proxy_count].strip(" \t")
    if not _ADDRESS_TEXT.fullmatch(entry):
        return None
    try:
        address = ipaddress.ip_address(entry)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def truncate_ip(address: str) -> str:
    """IPv4 to its /24 network, IPv6 to its /48: enough for security and rough location, not
    enough to single out a household."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


def client_network(request: HttpRequest) -> str:
    """The client address truncated (truncate_ip): what evidence of a request may keep."""
    return truncate_ip(client_ip(request))


@lru_cache(maxsize=2048)
def _family(user_agent: str) -> tuple[str, str]:
    parsed = parse(user_agent).user_agent
    if parsed is None:
        return UNKNOWN, ""
    return parsed.family, parsed.major or ""


def browser_family(user_agent: str) -> str:
    """Browser family and major version of a User-Agent string, e.g. "Chrome 126"."""
    family, major = _family(user_agent[:512])
    return f"{family} {major}".strip()


# Names people know a browser or a system by where the parser's differ, and the words for
# what it could not tell; other names are products', the same in every language.
_BROWSER_NAMES: dict[str, str | Promise] = {
    "HeadlessChrome": gettext_lazy("Chrome without a window"),
    "Mobile Safari": gettext_lazy("Safari for phones"),
    "Mobile Safari UI/WKWebView": gettext_lazy("an app's built-in browser"),
    "Chrome Mobile": gettext_lazy("Chrome for phones"),
    "Chrome Mobile iOS": gettext_lazy("Chrome for iPhone"),
    "Chrome Mobile WebView": gettext_lazy("an app's built-in browser"),
    "Firefox Mobile": gettext_lazy("Firefox for phones"),
    "Yandex Browser": gettext_lazy("Yandex Browser"),
    "Samsung Internet": gettext_lazy("Samsung Internet"),
    "Other": gettext_lazy("an unknown browser"),
}
_SYSTEM_NAMES: dict[str, str | Promise] = {
    "Mac OS X": "macOS",
    "Other": gettext_lazy("an unknown system"),
}


@lru_cache(maxsize=2048)
def _device(user_agent: str) -> tuple[str, str, str]:
    parsed = parse(user_agent)
    browser = parsed.user_agent.family if parsed.user_agent else "Other"
    major = parsed.user_agent.major or "" if parsed.user_agent else ""
    system = parsed.os.family if parsed.os else "Other"
    return browser, major, system


def device_description(user_agent: str) -> str:
    """The browser and system of a User-Agent string as a person reads them, in the active
    language: "Chrome 126 on Windows", "Safari for phones 17 on iOS"."""
    browser, major, system = _device(user_agent[:512])
    browser_name = f"{_BROWSER_NAMES.get(browser, browser)} {major}".strip()
    return _("%(browser)s on %(system)s") % {
        "browser": browser_name,
        "system": _SYSTEM_NAMES.get(system, system),
    }


def user_agent_family(request: HttpRequest) -> str:
    """Browser family and major version, e.g. "Chrome 126"; the full user-agent is never kept."""
    return browser_family(str(request.headers.get("User-Agent", "")))


@dataclass(frozen=True)
class PrivacySignals:
    """What the browser says on the person's behalf: Global Privacy Control and Do Not Track."""

    gpc: bool = False
    dnt: bool = False


def privacy_signals(request: HttpRequest) -> PrivacySignals:
    return PrivacySignals(
        gpc=request.headers.get("Sec-GPC") == "1", dnt=request.headers.get("DNT") == "1"
    )
