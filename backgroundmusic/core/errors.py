from django.core.exceptions import PermissionDenied as DjangoPermissionDenied


class DomainError(Exception):
    """A rule of the service refused an action; the message is safe to show to the user."""

    code = "domain_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class PermissionDenied(DomainError):
    code = "permission_denied"


class ActionRefused(PermissionDenied, DjangoPermissionDenied):
    """A staff permission question (`permission`, the name of a staffroles.selectors
    staff_may_* predicate) answered no for `actor`, raised by staffroles.selectors.staff_require.

    A PermissionDenied like any other refusal, so pages that show a DomainError and the API's
    403 answer it as before; also Django's PermissionDenied, so where nothing catches it the page
    answers 403. audit.refusals.refusals_audited records it as `service.denied` and sets
    `recorded`."""

    def __init__(self, message: str, *, permission: str, actor: object) -> None:
        super().__init__(message)
        self.permission = permission
        self.actor = actor
        self.recorded = False
