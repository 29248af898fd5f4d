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
