"""POST /a/e, the analytics beacon. Answered by AnalyticsBeaconMiddleware ahead of sessions,
authentication and CSRF: it changes nothing of the visitor's, needs none of them, and must be
cheap (bench/analytics.py)."""

import logging

from django.core.exceptions import DisallowedHost
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from backgroundmusic.analytics import keys
from backgroundmusic.analytics.buffer import event_buffer
from backgroundmusic.analytics.collection import (
    MAX_BODY_BYTES,
    BeaconRejected,
    RequestFacts,
    Visitor,
    browser_and_device,
    events_from_beacon,
)
from backgroundmusic.analytics.identity import identified_pseudonym
from backgroundmusic.core import clock
from backgroundmusic.core.request_info import client_ip, truncate_ip

logger = logging.getLogger(__name__)

BEACON_PATH = "/a/e"
SAME_SITE_FETCHES = ("same-origin", "none")


def _error(status: int, code: str, message: str) -> JsonResponse:
    response = JsonResponse({"error": {"code": code, "message": message}}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _cross_site(request: HttpRequest) -> bool:
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in SAME_SITE_FETCHES:
        return True
    origin = request.headers.get("Origin")
    return origin is not None and origin != f"{request.scheme}://{request.get_host()}"


def beacon(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        refused = _error(405, "method_not_allowed", _("Send the beacon with POST."))
        refused["Allow"] = "POST"
        return refused
    try:
        cross_site = _cross_site(request)
    except DisallowedHost:
        return _error(400, "bad_host", _("The Host header names no site of ours."))
    if cross_site:
        return _error(403, "cross_site", _("Beacons are accepted from this site's pages only."))
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _error(400, "bad_length", _("Content-Length is not a number."))
    if length > MAX_BODY_BYTES:
        return _error(
            400, "too_large", _("The beacon is larger than %(n)d bytes.") % {"n": MAX_BODY_BYTES}
        )
    body = request.read(MAX_BODY_BYTES + 1)
    user_agent = str(request.headers.get("User-Agent", ""))[:512]
    browser, _major, _device = browser_and_device(user_agent)
    try:
        salt = keys.salt_for_today()
    except DatabaseError:
        logger.exception("the analytics database does not answer")
        return _error(503, "unavailable", _("Statistics are not being collected just now."))
    visitor = Visitor(
        key=keys.visitor_key(
            salt=salt, truncated_ip=truncate_ip(client_ip(request)), browser=browser
        ),
        pseudonym=identified_pseudonym(request),
    )
    facts = RequestFacts(
        user_agent=user_agent, own_host=request.META.get("HTTP_HOST", ""), headers=request.headers
    )
    try:
        rows = events_from_beacon(body, facts=facts, visitor=visitor, now=clock.now())
    except BeaconRejected as rejected:
        return _error(400, rejected.code, rejected.message)
    if not event_buffer.add(rows, fallback_key=visitor.key):
        return _error(
            503,
            "backlog_full",
            _("Statistics are not being collected just now: too many events wait to be written."),
        )
    response = HttpResponse(status=204)
    response["Cache-Control"] = "no-store"
    return response
