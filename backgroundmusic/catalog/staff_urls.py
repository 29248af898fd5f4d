"""/staff/catalogue/: content managers edit tracks, collections and facet vocabularies.
(The masters and upload pages under /staff/catalogue/masters/ belong to the media app.)"""

from django.urls import path

from backgroundmusic.catalog import staff_views

app_name = "catalog_staff"

urlpatterns = [
    path("", staff_views.staff_tracks, name="tracks"),
    path("tracks/new/", staff_views.staff_track_edit, name="track_new"),
    path("tracks/<int:track_id>/", staff_views.staff_track_edit, name="track"),
    path("collections/", staff_views.staff_collections, name="collections"),
    path("collections/new/", staff_views.staff_collection_edit, name="collection_new"),
    path("collections/<int:collection_id>/", staff_views.staff_collection_edit, name="collection"),
    path("facets/", staff_views.staff_facets, name="facets"),
]
