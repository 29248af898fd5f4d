"""The request type of views behind @login_required."""

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    # For the type checker only: core imports no app at run time (the import contracts in
    # pyproject.toml allow exactly this one import).
    from backgroundmusic.accounts.models import User


class AuthenticatedRequest(HttpRequest):
    """The request of a view behind @login_required: its user is a real User."""

    user: "User"
