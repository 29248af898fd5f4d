import logging
from collections.abc import Callable, Iterable, Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import translation

from backgroundmusic.core.request_info import forwarded_client_address
from backgroundmusic.core.text import TextKind, TextRejected, text_refusal

logger = logging.getLogger(__name__)


class ForwardedClientMiddleware:
    """Behind PROXY_COUNT proxies of ours (nginx: 1), puts the client's address, as the outermost
    of them saw it, into REMOTE_ADDR (request_info.forwarded_client_address), so that everything
    after it (the rate limits, django-axes, allauth, evidence, Django) reads one address. Without
    a usable one REMOTE_ADDR stays the proxy's: never a 500, and nothing the client wrote.

    With PROXY_COUNT 0 X-Forwarded-For is not read: without a proxy of ours, the client wrote it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        proxy_count: int = settings.PROXY_COUNT
        forwarded_for = request.META.get("HTTP_X_FORWARDED_FOR")
        if proxy_count and forwarded_for is not None:
            address = forwarded_client_address(str(forwarded_for), proxy_count)
            if address is None:
                # Our proxies write these entries, so this is a proxy count that does not match
                # the proxies (or a request that bypassed them); the value itself is not logged.
                logger.warning(
                    "X-Forwarded-For has no address %d entries from the right; kept REMOTE_ADDR.",
                    proxy_count,
                )
            else:
                request.META["REMOTE_ADDR"] = address
        return self.get_response(request)


def _refusal(values: Iterable[str], kind: TextKind) -> TextRejected | None:
    for value in values:
        refusal = text_refusal(value, kind)
        if refusal is not None:
            return refusal
    return None


def _json_path(request: HttpRequest) -> bool:
    return request.path_info.startswith(tuple(settings.JSON_ERROR_PATH_PREFIXES))


def _query_and_form_values(request: HttpRequest) -> Iterator[str]:
    # The API's parser reads its own form parameters (api/api.py); reading a body here would
    # leave a streamed one unreadable to it.
    api = _json_path(request)
    for data in [request.GET] if api else [request.GET, request.POST]:
        for key, values in data.lists():
            yield key
            yield from values
    if not api:
        for _name, uploads in request.FILES.lists():
            yield from (upload.name or "" for upload in uploads)


def request_refusal(request: HttpRequest) -> TextRejected | None:
    """Why this request cannot be taken in, or None: a header breaks RFC 9110 (a control
    character other than tab), or the path or a query or form value holds a character no row can
    store (NUL, a lone surrogate)."""
    headers = (value for key, value in request.META.items() if key.startswith("HTTP_"))
    return (
        text_refusal(request.path_info, TextKind.STORABLE)
        or _refusal(headers, TextKind.HEADER)
        or _refusal(_query_and_form_values(request), TextKind.STORABLE)
    )


class TextEdgeMiddleware:
    """Refuses, with 400, a request carrying text that could not be stored or that no page of
    ours takes (see request_refusal), before any view, session or sign-in record sees it.

    The beacon (/a/e) is answered before this and checks its own body (analytics.collection)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusal = request_refusal(request)
        if refusal is None:
            return self.get_response(request)
        # Answered before LocaleMiddleware chooses the language: the API in the language the
        # request asks for, the page in both, as on the other 400 page.
        if _json_path(request):
            message = _message(request, translation.get_language_from_request(request))
            body = {"error": {"code": refusal.code, "message": message, "details": None}}
            return JsonResponse(body, status=400)
        page = render_to_string(
            "core/text_refused.html",
            {"message_en": _message(request, "en"), "message_ru": _message(request, "ru")},
        )
        return HttpResponse(page, status=400)


def _message(request: HttpRequest, language: str) -> str:
    with translation.override(language):
        refusal = request_refusal(request)
    return refusal.message if refusal is not None else ""
