"""The one ninja API instance. Routers live in each app's api.py and are added here."""

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from backgroundmusic.core.errors import DomainError, PermissionDenied

api = NinjaAPI(
    title="BACKGROUND MUSIC API",
    version="1",
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def error_envelope(code: str, message: str, details: object = None) -> dict[str, object]:
    return {"error": {"code": code, "message": message, "details": details}}


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
    return api.create_response(
        request, error_envelope("http_error", str(exc)), status=exc.status_code
    )


@api.exception_handler(PermissionDenied)
def on_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, error_envelope(exc.code, exc.message), status=403)


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, error_envelope(exc.code, exc.message), status=400)


# --- catalogue (catalog/api.py) ---
from backgroundmusic.catalog.api import router as catalog_router  # noqa: E402

api.add_router("/", catalog_router)
# --- end catalogue ---
