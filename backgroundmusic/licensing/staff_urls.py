"""Licensing's staff pages (staff_views/), mounted at /staff/licensing/."""

from django.urls import path  # noqa: F401 - each area adds its paths below

app_name = "licensing_staff"

urlpatterns: list = []
