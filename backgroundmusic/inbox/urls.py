from django.urls import path

from backgroundmusic.inbox import views

app_name = "inbox"

urlpatterns = [
    path("privacy/requests/confirm/<str:token>/", views.confirm, name="confirm"),
]
