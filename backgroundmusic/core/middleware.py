from collections.abc import Callable, Iterable, Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import translation

from backgroundmusic.core.text import TextKind, TextRejected, text_refusal


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
