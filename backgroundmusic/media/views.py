"""The serving views behind every signed audio URL: `media:stream` and `media:download`.

`media:stream_url` gives the player a fresh stream URL for one that was refused (expired), and
with secure links (decision 0041) nginx serves the streamed kinds without these views.

Each serving view checks the URL (`streaming.stream_open`, `downloads.download_open`: signature,
expiry, user, entitlement) and then either hands the file to nginx (`X-Accel-Redirect`, when
`MEDIA_ACCEL_REDIRECT_PREFIX` is set) or serves it itself, answering byte-range requests per
RFC 9110 §14 (decision 0008). A download is served as an attachment named after the track and is
recorded (`downloads.download_record`) by every GET that sends its bytes, once per URL.

- 200 with `Accept-Ranges: bytes`; HEAD gives the same headers and no body;
- one range (`bytes=a-b`, `bytes=a-`, `bytes=-n`) → 206 with Content-Range;
- an unsatisfiable range → 416 with `Content-Range: bytes */size`;
- several ranges → the whole file with 200 (RFC 9110 lets a server ignore Range; nginx is
  configured the same way with `max_ranges 1`);
- a malformed Range or an unknown unit is ignored (200);
- If-Range with our strong ETag or the exact Last-Modified date keeps the range, anything else
  (a weak tag, another tag or date) gets the whole file with 200;
- If-None-Match / If-Modified-Since → 304, If-Match / If-Unmodified-Since → 412 (Django's
  `get_conditional_response`).

The body is streamed from the storage in 64 KiB blocks (gunicorn uses sendfile when the storage
gives a real file; S3-compatible storage is asked for just the range), never read whole into
memory.
"""

import logging
import re
from collections.abc import Callable
from typing import Literal

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, parse_http_date_safe
from django.utils.translation import gettext
from django.views.decorators.http import require_safe

from backgroundmusic.core.storage import StoredSlice, accel_redirect_target, stored_size
from backgroundmusic.media import downloads, streaming
from backgroundmusic.media.models import Rendition

logger = logging.getLogger(__name__)

BLOCK_SIZE = 64 * 1024
# A byte position with more digits than this is beyond any file we hold; parsing it exactly
# would only let a client make us convert a huge number.
_MAX_DIGITS = 18
_BEYOND_ANY_FILE = 10**_MAX_DIGITS
_RANGE_SPEC = re.compile(r"^(\d*)-(\d*)$")

UNSATISFIABLE: Literal["unsatisfiable"] = "unsatisfiable"
_KEPT_BY_NGINX = frozenset({"Cache-Control", "Content-Disposition"})
ByteRange = tuple[int, int]  # first and last byte position, inclusive


@require_safe
def stream(request: HttpRequest, token: str) -> HttpResponseBase:
    try:
        grant = streaming.stream_open(user=request.user, token=token)
    except streaming.StreamNotFound as error:
        return _refusal(404, error.message)
    except streaming.StreamDenied as error:
        return _refusal(403, error.message)
    return _serve(request, grant)


@require_safe
def stream_url(request: HttpRequest) -> HttpResponseBase:
    """`{"url": ...}`: a fresh URL for the stream the `src` parameter names (the player asks
    when nginx or the stream view refused an expired URL)."""
    try:
        url = streaming.renewed_url(user=request.user, src=request.GET.get("src", ""))
    except streaming.StreamNotFound as error:
        return _refusal(404, error.message)
    except streaming.StreamDenied as error:
        return _refusal(403, error.message)
    response = JsonResponse({"url": url})
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def download(request: HttpRequest, token: str) -> HttpResponseBase:
    try:
        grant = downloads.download_open(user=request.user, token=token)
    except streaming.StreamNotFound as error:
        return _refusal(404, error.message)
    except streaming.StreamDenied as error:
        return _refusal(403, error.message)

    def record() -> None:
        downloads.download_record(user=request.user, rendition=grant.rendition, token=token)

    disposition = downloads.content_disposition(rendition=grant.rendition)
    return _serve(request, grant, disposition=disposition, on_send=record)


def _serve(
    request: HttpRequest,
    grant: streaming.StreamGrant,
    *,
    disposition: str | None = None,
    on_send: Callable[[], None] | None = None,
) -> HttpResponseBase:
    """The rendition's bytes, or the answer about them (HEAD, 304, 412, 416). `on_send` is
    called before a GET's bytes go out (200 or 206, or the hand-over to nginx)."""
    rendition = grant.rendition
    headers = _representation_headers(rendition, seconds_left=grant.seconds_left())
    if disposition is not None:
        headers["Content-Disposition"] = disposition
    accel_prefix = settings.MEDIA_ACCEL_REDIRECT_PREFIX
    if accel_prefix:
        # nginx serves the bytes (sendfile, Range, If-Range) from its internal location, with its
        # own Accept-Ranges, ETag and Last-Modified; it keeps our Content-Type, Cache-Control and
        # Content-Disposition.
        if on_send is not None and request.method == "GET":
            on_send()
        response = HttpResponse(content_type=rendition.mime_type)
        _apply(response, {k: v for k, v in headers.items() if k in _KEPT_BY_NGINX})
        response["X-Accel-Redirect"] = accel_redirect_target(accel_prefix, rendition.storage_key)
        return response

    size = stored_size(rendition.storage_key)
    if size is None:
        return _gone(rendition)

    etag = headers["ETag"]
    last_modified = int(rendition.created_at.timestamp())
    carrier = HttpResponse()
    _apply(carrier, headers)
    conditional = get_conditional_response(
        request, etag=etag, last_modified=last_modified, response=carrier
    )
    if conditional is not carrier and conditional is not None:
        return conditional  # 304 or 412

    wanted = _requested_range(request, size=size, etag=etag, last_modified=last_modified)
    if wanted == UNSATISFIABLE:
        response = HttpResponse(status=416, content_type=rendition.mime_type)
        _apply(response, headers)
        response["Content-Range"] = f"bytes */{size}"
        response["Content-Length"] = "0"
        return response
    if request.method == "HEAD":
        response = HttpResponse(content_type=rendition.mime_type)
        _apply(response, headers)
        response["Content-Length"] = str(size)
        return response

    first, last = wanted if wanted is not None else (0, size - 1)
    length = max(0, last - first + 1)
    try:
        stored = StoredSlice(rendition.storage_key, first, length)
    except FileNotFoundError:  # removed since its size was read
        return _gone(rendition)
    if on_send is not None:
        on_send()
    body = _AudioResponse(stored, content_type=rendition.mime_type)
    if wanted is not None:
        body.status_code = 206
        body["Content-Range"] = f"bytes {first}-{last}/{size}"
    _apply(body, headers)
    body["Content-Length"] = str(length)
    return body


def _refusal(status: int, message: str) -> HttpResponse:
    response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


def _gone(rendition: Rendition) -> HttpResponse:
    logger.warning("rendition %s: file missing from storage", rendition.pk)
    return _refusal(404, gettext("This recording is no longer available."))


def _representation_headers(rendition: Rendition, *, seconds_left: int) -> dict[str, str]:
    return {
        "Accept-Ranges": "bytes",
        "ETag": f'"{rendition.sha256}"',
        "Last-Modified": http_date(rendition.created_at.timestamp()),
        # Never in a shared cache; in the browser's only while the URL itself is good.
        "Cache-Control": f"private, max-age={seconds_left}",
    }


def _apply(response: HttpResponseBase, headers: dict[str, str]) -> None:
    for name, value in headers.items():
        response[name] = value


def _requested_range(
    request: HttpRequest, *, size: int, etag: str, last_modified: int
) -> ByteRange | Literal["unsatisfiable"] | None:
    """The one byte range to send, UNSATISFIABLE (416), or None for the whole file (200)."""
    header = request.META.get("HTTP_RANGE")
    if request.method != "GET" or not header:
        return None  # RFC 9110 §14.2: range handling is defined for GET only
    if_range = request.META.get("HTTP_IF_RANGE")
    if if_range is not None and not _if_range_holds(if_range, etag, last_modified):
        return None
    unit, equals, specs_text = header.partition("=")
    if not equals or unit.strip().lower() != "bytes":
        return None
    specs = [spec.strip() for spec in specs_text.split(",") if spec.strip()]
    parsed = [_RANGE_SPEC.match(spec) for spec in specs]
    if not parsed or any(match is None or match.group(0) == "-" for match in parsed):
        return None  # malformed: ignored
    if len(parsed) > 1:
        return None  # several ranges: the whole file (decision 0008)
    match = parsed[0]
    assert match is not None
    first_text, last_text = match.groups()
    if first_text:
        first = _position(first_text)
        last = _position(last_text) if last_text else _BEYOND_ANY_FILE
        if last < first:
            return None  # invalid range-spec: ignored
        if first >= size:
            return UNSATISFIABLE
        return first, min(last, size - 1)
    suffix = _position(last_text)
    if suffix == 0 or size == 0:
        return UNSATISFIABLE
    return max(0, size - suffix), size - 1


def _position(digits: str) -> int:
    return int(digits) if len(digits) <= _MAX_DIGITS else _BEYOND_ANY_FILE


def _if_range_holds(value: str, etag: str, last_modified: int) -> bool:
    """RFC 9110 §13.1.5: a strong comparison with our ETag, or the exact Last-Modified date."""
    value = value.strip()
    if value.startswith(("W/", '"')):
        return value == etag  # a weak tag never matches
    moment = parse_http_date_safe(value)
    return moment is not None and moment == last_modified


class _AudioResponse(FileResponse):
    block_size = BLOCK_SIZE
