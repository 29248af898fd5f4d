"""What the service may keep about a request's origin: truncated IP, browser family. Never more."""

import ipaddress
from dataclasses import dataclass
from functools import lru_cache

from django.http import HttpRequest
from ua_parser import parse

UNKNOWN = "unknown"


def client_ip(request: HttpRequest) -> str:
    """The client address as the app server saw it (behind a proxy, set PROXY_COUNT and let the
    proxy overwrite REMOTE_ADDR)."""
    return str(request.META.get("REMOTE_ADDR", ""))


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
