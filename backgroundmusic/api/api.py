"""The one ninja API instance. Routers live in each app's api.py and are added here."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from backgroundmusic.core.api_errors import error_envelope
from backgroundmusic.core.errors import DomainError, PermissionDenied
from backgroundmusic.core.ratelimits import rate_limit_hit
from backgroundmusic.core.text import JsonRejected, TextRejected, parse_json, text_refusal

MAX_BODY_BYTES = 1024 * 1024


class TextRulesParser(Parser):
    """Request bodies and query and form parameters under the text rules of core/text.py: a JSON
    body within size and depth limits, every parameter name and value one line."""

    def parse_body(self, request: HttpRequest) -> Any:
        return parse_json(request.body, max_bytes=MAX_BODY_BYTES)

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        for name, values in data.lists():
            refusal = text_refusal(name)
            if refusal is not None:
                raise refusal
            for value in values:
                refusal = text_refusal(value) if isinstance(value, str) else None
                if refusal is not None:
                    raise TextRejected(
                        _("Parameter “%(name)s”: %(reason)s")
                        % {"name": name, "reason": refusal.message},
                        code=refusal.code,
                    )
        return super().parse_querydict(data, list_fields, request)


api = NinjaAPI(
    parser=TextRulesParser(),
    title="BACKGROUND MUSIC API",
    version="1",
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return api.create_response(
        request,
        error_envelope("invalid_request", "The request is not valid.", exc.errors),
        status=422,
    )


@api.exception_handler(AuthenticationError)
def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request, error_envelope("unauthenticated", "Sign in first."), status=401
    )


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # ninja answers a body its parser refused with HttpError(400) raised from the parser's error.
    if isinstance(exc.__cause__, JsonRejected):
        return api.create_response(
            request, error_envelope(exc.__cause__.code, exc.__cause__.message), status=400
        )
    # ninja's session authentication raises HttpError(403) when the CSRF check fails, and
    # nothing else of the API raises it with 403.
    if exc.status_code == 403:
        return api.create_response(
            request,
            error_envelope(
                "csrf_failed",
                _(
                    "The CSRF check failed: send the csrftoken cookie and the same value in the "
                    "X-CSRFToken header."
                ),
            ),
            status=403,
        )
    return api.create_response(
        request, error_envelope("http_error", str(exc)), status=exc.status_code
    )


@api.exception_handler(MultiPartParserError)
@api.exception_handler(SuspiciousOperation)
@api.exception_handler(BadRequest)
def on_unreadable_body(request: HttpRequest, exc: Exception) -> HttpResponse:
    # A form body Django cannot parse (a multipart body without its boundary, too many fields)
    # fails when the CSRF check reads it; in the envelope rather than the site's 400 page.
    return api.create_response(
        request,
        error_envelope("body_unreadable", _("The request's body could not be read as a form.")),
        status=400,
    )


@api.exception_handler(PermissionDenied)
def on_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, error_envelope(exc.code, exc.message), status=403)


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, error_envelope(exc.code, exc.message), status=400)


from backgroundmusic.catalog.api import router as catalog_router  # noqa: E402
from backgroundmusic.library.api import router as library_router  # noqa: E402
from backgroundmusic.licensing.api import router as licensing_router  # noqa: E402

api.add_router("/", catalog_router)
api.add_router("/", licensing_router)
api.add_router("/", library_router)


# Rate limits (core/ratelimits.py): every operation counts, the docs and the schema do not.
def rate_limited(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def limited(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        refusal = rate_limit_hit(request, scope="api")
        if refusal is None:
            return view(request, *args, **kwargs)
        response = api.create_response(
            request,
            error_envelope(
                "rate_limited",
                "Too many requests: try again after the number of seconds in Retry-After.",
                {"retry_after": refusal.retry_after},
            ),
            status=429,
        )
        response["Retry-After"] = str(refusal.retry_after)
        return response

    return limited


api.add_decorator(rate_limited, mode="view")
