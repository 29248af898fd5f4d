"""/staff/catalogue/masters/: content managers upload masters and follow their ingest."""

from django.urls import path

from backgroundmusic.media import staff_views

app_name = "media_staff"

urlpatterns = [
    path("", staff_views.masters, name="masters"),
    path("<int:master_id>/retry/", staff_views.master_retry, name="retry"),
]
