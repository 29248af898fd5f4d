"""The request type of views behind @login_required, and the site's absolute addresses."""

from typing import TYPE_CHECKING

from django.conf import settings
from django.http import HttpRequest

if TYPE_CHECKING:
    # For the type checker only: core imports no app at run time (the import contracts in
    # pyproject.toml allow exactly this one import).
    from backgroundmusic.accounts.models import User


class AuthenticatedRequest(HttpRequest):
    """The request of a view behind @login_required: its user is a real User."""

    user: "User"


def site_address(path: str = "", *, site_url: str = "") -> str:
    """`path` under the site's public address: `site_url` when the caller has one (the address
    the request came in on), else settings.SITE_URL. Links in mail, documents and sitemaps are
    built here, never from a request's Host header alone."""
    return (site_url or str(settings.SITE_URL)).rstrip("/") + path
