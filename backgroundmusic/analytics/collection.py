"""What a beacon may tell us, reduced to what we keep (policy clauses 1.2 and 1.3).

`events_from_beacon` turns the body of POST /a/e and the request's headers into Event rows:
the path without query parameters (except ANALYTICS_ALLOWED_QUERY_PARAMS) and with e-mail
addresses, tokens and person-naming segments masked; the referrer's host; browser family and
major version; a device class; a screen-width class; the language; a country only from a trusted
proxy header. Never the IP address, the full user-agent, or anything typed into a form.
"""

import re
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.conf import settings
from django.utils.translation import gettext as _
from ua_parser import parse

from backgroundmusic.analytics.models import Event, EventKind, ScreenClass
from backgroundmusic.core.errors import DomainError
from backgroundmusic.core.hostnames import url_host
from backgroundmusic.core.text import JsonRejected, TextKind, parse_json

MAX_BODY_BYTES = 16 * 1024
MAX_EVENTS = 50
MAX_PATH_LENGTH = 512
# Longer engagement for one view in one beacon is a broken or forged client.
MAX_ENGAGED_MS = 30 * 60 * 1000

EMAIL = re.compile(r"[\w.+%-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
# A path segment that is an identifier, not a page name: a UUID, long hex, a signed value
# (Django's signer joins parts with ':'), or a long run of letters and digits mixing cases or
# carrying digits (download tokens, reset keys, signed stream URLs).
TOKEN_SEGMENT = re.compile(
    r"^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|[0-9a-f]{16,}"
    r"|[\w-]*:[\w:-]*"
    r"|(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[\w-]{20,}"
    r"|(?=[\w-]*[a-z])(?=[\w-]*[A-Z])[\w-]{20,})$"
)
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})?$")


class BeaconRejected(DomainError):
    """A malformed beacon: answered 400 with the code and message; nothing is stored."""

    code = "beacon_rejected"


@dataclass(frozen=True)
class Visitor:
    """Who the events count as: the day's cookieless key, and the bm_aid pseudonym when the
    visitor consented to identified analytics (then the events carry the pseudonym; the key is
    kept only in memory, for the buffer to fall back to if the consent has ended)."""

    key: str
    pseudonym: str = ""


def _mask_segment(segment: str) -> str:
    if EMAIL.search(segment):
        return ":email"
    if TOKEN_SEGMENT.match(segment):
        return ":token"
    return segment


def clean_path(raw: Any) -> str:
    """The page's path as we keep it (see the module docstring); "" if it is not one of ours."""
    if not isinstance(raw, str) or not raw.startswith("/") or raw.startswith("//"):
        return ""
    parts = urlsplit(raw[:4096])
    segments = parts.path.split("/")
    masked_after = {prefix.strip("/") for prefix in settings.LOG_MASKED_PATH_PREFIXES}
    cleaned: list[str] = []
    for index, segment in enumerate(segments):
        previous = "/".join(segments[1:index])
        if index > 1 and previous in masked_after and segment:
            cleaned.append(":masked")
        else:
            cleaned.append(_mask_segment(segment))
    path = "/".join(cleaned)
    allowed = set(settings.ANALYTICS_ALLOWED_QUERY_PARAMS)
    kept = [
        (name, ":email" if EMAIL.search(value) else value[:100])
        for name, value in parse_qsl(parts.query, keep_blank_values=False)
        if name in allowed and not TOKEN_SEGMENT.match(value)
    ]
    if kept:
        path += "?" + urlencode(sorted(kept))
    return path[:MAX_PATH_LENGTH]


def referrer_host(raw: Any, *, own_host: str) -> str:
    """The referrer URL's host in normal form (core/hostnames.py); "" when there is none, it
    is not a valid host name or IP address, or it is our own site (`own_host`, the Host header)."""
    if not isinstance(raw, str):
        return ""
    host = url_host(raw)
    return "" if host == url_host(f"//{own_host}") else host


@lru_cache(maxsize=4096)
def browser_and_device(user_agent: str) -> tuple[str, str, str]:
    """(browser family, major version, device class) of a user-agent; the string is not kept."""
    result = parse(user_agent)
    agent = result.user_agent
    family = agent.family if agent is not None else ""
    major = (agent.major or "") if agent is not None else ""
    device_family = result.device.family if result.device is not None else ""
    lowered = user_agent.lower()
    if "bot" in lowered or "spider" in lowered or "crawler" in lowered or device_family == "Spider":
        device = "bot"
    elif "ipad" in lowered or "tablet" in lowered:
        device = "tablet"
    elif "mobi" in lowered or "android" in lowered:
        device = "mobile"
    elif user_agent:
        device = "desktop"
    else:
        device = ""
    return family[:64], major[:8], device


def screen_class(width: Any) -> str:
    if not isinstance(width, int) or isinstance(width, bool) or not 0 < width <= 100_000:
        return ScreenClass.UNKNOWN
    if width < 640:
        return ScreenClass.SMALL
    if width < 1024:
        return ScreenClass.MEDIUM
    if width < 1440:
        return ScreenClass.LARGE
    return ScreenClass.XLARGE


def language(raw: Any) -> str:
    return raw if isinstance(raw, str) and LANGUAGE.match(raw) else ""


def country(headers: Any) -> str:
    header = settings.ANALYTICS_COUNTRY_HEADER
    if not header:
        return ""
    value = str(headers.get(header, "")).strip().upper()
    return value if re.fullmatch(r"[A-Z]{2}", value) and value != "XX" else ""


def _decode(body: bytes) -> list[dict[str, Any]]:
    # Every string is one line under the text rules: a lone surrogate or NUL in a path could
    # not be written, and would stop the buffer's whole batch.
    try:
        payload = parse_json(body, max_bytes=MAX_BODY_BYTES, kind=TextKind.LINE)
    except JsonRejected as rejected:
        raise BeaconRejected(rejected.message, code=rejected.code) from None
    events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(events, list) or not events:
        raise BeaconRejected(_("The beacon carries no list of events."), code="no_events")
    if len(events) > MAX_EVENTS:
        raise BeaconRejected(
            _("A beacon carries at most %(n)d events.") % {"n": MAX_EVENTS}, code="too_many"
        )
    if not all(isinstance(event, dict) for event in events):
        raise BeaconRejected(_("Every event must be a JSON object."), code="bad_event")
    return events


def _view_id(raw: Any) -> uuid.UUID:
    if isinstance(raw, str) and len(raw) == 36:
        try:
            return uuid.UUID(raw)
        except ValueError:
            pass
    raise BeaconRejected(_("An event's view id is not a UUID."), code="bad_view")


def _engaged_ms(event: dict[str, Any]) -> int:
    value = event.get("engaged_ms")
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ENGAGED_MS:
        raise BeaconRejected(
            _("engaged_ms must be a whole number of milliseconds from 0 to %(n)d.")
            % {"n": MAX_ENGAGED_MS},
            code="bad_engaged_ms",
        )
    return value


@dataclass(frozen=True)
class RequestFacts:
    """What the server knows of the request that carried the beacon (never the raw IP)."""

    user_agent: str
    own_host: str
    headers: Any


def events_from_beacon(
    body: bytes, *, facts: RequestFacts, visitor: Visitor, now: Any
) -> list[Event]:
    """Event rows for a beacon; raises BeaconRejected (and makes none) if any event is bad."""
    family, major, device = browser_and_device(facts.user_agent[:512])
    place = country(facts.headers)
    rows = []
    for event in _decode(body):
        kind = event.get("kind")
        if kind not in EventKind.values:
            raise BeaconRejected(_("An event's kind must be view or engage."), code="bad_kind")
        path = clean_path(event.get("path"))
        if not path:
            raise BeaconRejected(_("An event's path must be a path on this site."), code="bad_path")
        rows.append(
            Event(
                kind=kind,
                occurred_at=now,
                view_id=_view_id(event.get("view")),
                visitor_key=visitor.pseudonym or visitor.key,
                pseudonym=visitor.pseudonym,
                path=path,
                referrer_host=referrer_host(event.get("referrer"), own_host=facts.own_host)
                if kind == EventKind.VIEW
                else "",
                browser=family,
                browser_major=major,
                device=device,
                screen=screen_class(event.get("width")) if kind == EventKind.VIEW else "",
                country=place,
                language=language(event.get("language")) if kind == EventKind.VIEW else "",
                engaged_ms=_engaged_ms(event) if kind == EventKind.ENGAGE else 0,
            )
        )
    return rows
