"""Mailing's public address under /mail/: the unsubscribe page. The providers' tracking webhooks
are django-anymail's, mounted once for mailing and the inbox at /anymail/ (config/urls.py)."""

from django.urls import re_path

from backgroundmusic.mailing import views

app_name = "mailing"

urlpatterns: list = [
    # Any token-shaped segment reaches the view, which answers 404 for one it does not know.
    re_path(r"^unsubscribe/(?P<token>[^/]{1,200})/$", views.unsubscribe, name="unsubscribe"),
]
