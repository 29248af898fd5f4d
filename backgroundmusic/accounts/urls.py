from django.urls import path

from backgroundmusic.accounts import views

app_name = "accounts"

urlpatterns = [
    path("account/profile/", views.profile_edit, name="profile"),
]
