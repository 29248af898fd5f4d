"""Host names from outside (a referrer, a Host header) checked and put in one normal form.

A DNS name is kept as its IDNA A-label form (UTS #46 mapping, IDNA 2008 rules, through the
`idna` package), lowercase and without a trailing dot: "ЯНДЕКС.рф." → "xn--d1acpjx3f.xn--p1ai".
Stored that way a name has one spelling, holds only ASCII letters, digits, hyphens and dots
(nothing a spreadsheet or a page could take for markup or a formula), and a look-alike of a
known name shows as the different name it is. An IP address is kept as its standard text
("0:0::1" → "::1"). Anything else is "".
"""

import ipaddress
import re
from functools import lru_cache
from urllib.parse import urlsplit

import idna

# Whitespace and C0/C1 control characters: never in a URL a browser serialised.
UNSERIALISED = re.compile(r"[\x00-\x20\x7f-\x9f]")
# The host comes first; a longer URL is read only this far.
READ_URL_CHARACTERS = 2048


@lru_cache(maxsize=4096)
def normal_host(host: str) -> str:
    """The host in normal form, or "" if it is neither a valid DNS host name (labels of at most
    63 characters, at most 253 in all, not ending in a number) nor an IP address."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return "" if "%" in host else str(address)  # a zone index names no host elsewhere
    name = host.removesuffix(".")
    try:
        encoded = idna.encode(name, uts46=True).decode("ascii")
    except (UnicodeError, ValueError):
        return ""
    # A last label of digits makes an address, not a name (WHATWG URL refuses "1.2.3.999").
    if encoded.rsplit(".", 1)[-1].isdigit():
        return ""
    return encoded


def url_host(url: str) -> str:
    """The normal host of an absolute URL ("https://Example.com:8443/x" → "example.com"), or ""
    when it has none or holds whitespace or a control character."""
    url = url[:READ_URL_CHARACTERS]
    if UNSERIALISED.search(url):
        return ""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return ""
    return normal_host(host) if host else ""
