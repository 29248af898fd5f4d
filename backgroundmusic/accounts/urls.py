from django.urls import path

from backgroundmusic.accounts import views

app_name = "accounts"

urlpatterns = [
    path("account/profile/", views.profile_edit, name="profile"),
    path("u/<str:username>/", views.public_profile, name="public_profile"),
]
