"""Records refused staff attempts: one place for every /staff/ page, instead of every view."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from backgroundmusic.audit.models import AuditAction
from backgroundmusic.audit.services import audit_record
from backgroundmusic.core.errors import ActionRefused

STAFF_PATH_PREFIX = "/staff/"
# Set on the request when the view's 403 is a refusal its service already recorded.
REFUSAL_RECORDED = "_service_refusal_recorded"


class StaffDeniedAuditMiddleware:
    """A 403 on a staff page for a signed-in person writes a `staff.denied` row naming the
    path and method. After the view: its transaction has already rolled back, the row stays.
    Anonymous callers are sent to sign in, not refused, so they leave no row. A 403 that is a
    service's refusal (ActionRefused) reaching Django uncaught was recorded by that service as
    `service.denied`, so it writes none: one refusal, one row."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == 403
            and request.path_info.startswith(STAFF_PATH_PREFIX)
            and request.user.is_authenticated
            and not getattr(request, REFUSAL_RECORDED, False)
        ):
            audit_record(
                actor=request.user,
                action=AuditAction.STAFF_DENIED,
                after={"path": request.path_info, "method": request.method},
            )
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if isinstance(exception, ActionRefused) and exception.recorded:
            setattr(request, REFUSAL_RECORDED, True)
