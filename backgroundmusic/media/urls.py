from django.urls import path

from backgroundmusic.media import views

app_name = "media"

urlpatterns = [
    # Signed, expiring audio URLs (media/streaming.py); nothing else reaches rendition files.
    path("stream/<str:token>", views.stream, name="stream"),
    # A fresh URL for a stream whose URL was refused (expired): the player asks it (JSON).
    path("stream-url", views.stream_url, name="stream_url"),
    # The same URLs for the renditions people keep, served as attachments and recorded
    # (media/downloads.py).
    path("download/<str:token>", views.download, name="download"),
]
