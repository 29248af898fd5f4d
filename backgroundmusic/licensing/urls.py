"""Licensing's public pages (views/), mounted at the site root: /pricing/, /cart/, /orders/,
/licences/, /verify/<id>/ and the payment providers' notifications."""

from django.urls import path  # noqa: F401 - each area adds its paths below

app_name = "licensing"

urlpatterns: list = []
