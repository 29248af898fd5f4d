"""The home page (/): thin, the catalogue's and the person's selectors render it."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from backgroundmusic.catalog import selectors as catalogue
from backgroundmusic.catalog.views import track_rows
from backgroundmusic.core import clock
from backgroundmusic.home.selectors import next_steps


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    newest = catalogue.tracks_newest(user=user)
    featured = catalogue.tracks_featured(user=user)
    return render(
        request,
        "home/home.html",
        {
            "steps": next_steps(user=user, now=clock.now()) if user.is_authenticated else [],
            "newest_rows": track_rows(request, newest),
            "featured_rows": track_rows(request, featured),
            "collections": catalogue.collections_featured(user=user),
        },
    )
