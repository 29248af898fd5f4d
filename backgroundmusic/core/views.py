from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from backgroundmusic.core.selectors import health_report


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    report = health_report()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A refused form (expired token, blocked cookies) explained on a page of the site; Django's
    own view renders its template without the request, which the site's layout needs."""
    return render(request, "403_csrf.html", status=403)
