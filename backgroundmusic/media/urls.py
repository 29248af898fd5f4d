from django.urls import path

from backgroundmusic.media import views_stream

app_name = "media"

urlpatterns = [
    # Signed, expiring audio URLs (media/streaming.py); nothing else reaches rendition files.
    path("stream/<str:token>", views_stream.stream, name="stream"),
]
