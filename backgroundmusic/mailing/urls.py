"""Mailing's public addresses under /mail/: the unsubscribe page and the providers' tracking
webhooks (django-anymail's, e.g. /mail/anymail/postmark/tracking/)."""

from django.urls import include, path, re_path

from backgroundmusic.mailing import views

app_name = "mailing"

urlpatterns: list = [
    # Any token-shaped segment reaches the view, which answers 404 for one it does not know.
    re_path(r"^unsubscribe/(?P<token>[^/]{1,200})/$", views.unsubscribe, name="unsubscribe"),
    path("anymail/", include("anymail.urls")),
]
