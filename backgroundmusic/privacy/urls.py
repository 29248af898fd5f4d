"""Every URL of the privacy app. Each area's views live in privacy/views/<area>.py."""

from django.urls import path

from backgroundmusic.privacy.views import center

app_name = "privacy"

urlpatterns = [
    path("privacy/", center.privacy_center, name="center"),
]
