from functools import cache
from pathlib import Path

from django.conf import settings
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    JsonResponse,
)
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET

from backgroundmusic.core.metrics import metrics_exposition, scrape_refusal
from backgroundmusic.core.operator import operator_details
from backgroundmusic.core.selectors import health_report

FAVICON = Path(__file__).resolve().parent.parent / "static" / "favicon.ico"


@require_GET
def contact(request: HttpRequest) -> HttpResponse:
    """/contact/: the operator and its addresses, as configuration names them."""
    details = operator_details()
    language = get_language() or "en"
    return render(
        request,
        "core/contact.html",
        {
            "operator": details,
            "name": details.name(language),
            "address": details.address(language),
            "privacy_address": settings.PRIVACY_ADDRESS,
        },
    )


@cache
def _favicon_bytes() -> bytes:
    return FAVICON.read_bytes()


@cache_control(public=True, max_age=86400)
@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, where browsers and feed readers look for it whatever the page links."""
    return HttpResponse(_favicon_bytes(), content_type="image/vnd.microsoft.icon")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    report = health_report()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A refused form (expired token, blocked cookies) explained on a page of the site; Django's
    own view renders its template without the request, which the site's layout needs."""
    return render(request, "403_csrf.html", status=403)


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """/metrics for Prometheus: 404 while METRICS_TOKEN is unset, 401 without it (before the
    method is looked at, so a refused caller learns nothing more)."""
    refusal = scrape_refusal(authorization=request.headers.get("Authorization", ""))
    if refusal == 404:
        raise Http404
    if refusal is not None:
        response = HttpResponse("A bearer token is required.\n", status=refusal)
        response["Content-Type"] = "text/plain; charset=utf-8"
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if request.method not in {"GET", "HEAD"}:
        return HttpResponseNotAllowed(["GET", "HEAD"])
    body, content_type = metrics_exposition()
    return HttpResponse(body, content_type=content_type)
