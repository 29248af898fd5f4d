"""Records refused staff attempts: one place for every /staff/ page, instead of every view."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from backgroundmusic.audit.models import AuditAction
from backgroundmusic.audit.services import audit_record

STAFF_PATH_PREFIX = "/staff/"


class StaffDeniedAuditMiddleware:
    """A 403 on a staff page for a signed-in person writes a `staff.denied` row naming the
    path and method. After the view: its transaction has already rolled back, the row stays.
    Anonymous callers are sent to sign in, not refused, so they leave no row."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == 403
            and request.path_info.startswith(STAFF_PATH_PREFIX)
            and request.user.is_authenticated
        ):
            audit_record(
                actor=request.user,
                action=AuditAction.STAFF_DENIED,
                after={"path": request.path_info, "method": request.method},
            )
        return response
