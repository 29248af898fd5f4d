"""/staff/catalogue/: content managers edit tracks, collections and facet vocabularies.
(The masters and upload pages under /staff/catalogue/masters/ belong to the media app.)"""

from django.urls import path

from backgroundmusic.catalog import views

app_name = "catalog_staff"

urlpatterns = [
    path("", views.staff_tracks, name="tracks"),
    path("tracks/new/", views.staff_track_edit, name="track_new"),
    path("tracks/<int:track_id>/", views.staff_track_edit, name="track"),
    path("collections/", views.staff_collections, name="collections"),
    path("collections/new/", views.staff_collection_edit, name="collection_new"),
    path("collections/<int:collection_id>/", views.staff_collection_edit, name="collection"),
    path("facets/", views.staff_facets, name="facets"),
]
