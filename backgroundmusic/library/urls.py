from django.urls import path

from backgroundmusic.library import views

app_name = "library"

urlpatterns = [
    path("account/favourites/", views.favourites, name="favourites"),
    path("account/favourites.css", views.favourites_stylesheet, name="favourites_stylesheet"),
    path("account/favourites/<slug:slug>/", views.favourite, name="favourite"),
    path("account/playlists/", views.playlists, name="playlists"),
    path("account/playlists/add/", views.entry_add, name="entry_add"),
    path("account/playlists/<int:playlist_id>/", views.playlist_detail, name="playlist"),
    path("account/playlists/<int:playlist_id>/delete/", views.playlist_delete, name="delete"),
    path(
        "account/playlists/<int:playlist_id>/entries/<int:entry_id>/remove/",
        views.entry_remove,
        name="entry_remove",
    ),
    path(
        "account/playlists/<int:playlist_id>/entries/<int:entry_id>/move/",
        views.entry_move,
        name="entry_move",
    ),
]
