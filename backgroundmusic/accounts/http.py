from django.http import HttpRequest

from backgroundmusic.accounts.models import User


class AuthenticatedRequest(HttpRequest):
    """The request of a view behind @login_required: its user is a real User."""

    user: User
