"""The newsletter editor's pages (staff_views.py), mounted at /staff/mailing/."""

from django.urls import path

from backgroundmusic.mailing import staff_views

app_name = "mailing_staff"

urlpatterns: list = [
    path("", staff_views.staff_campaigns, name="campaigns"),
    path("new/", staff_views.staff_campaign_new, name="campaign_new"),
    path("<int:pk>/", staff_views.staff_campaign, name="campaign"),
    path("<int:pk>/edit/", staff_views.staff_campaign_edit, name="campaign_edit"),
    path("<int:pk>/preview/", staff_views.staff_campaign_preview, name="campaign_preview"),
    path("<int:pk>/test/", staff_views.staff_campaign_test_send, name="campaign_test_send"),
    path("<int:pk>/schedule/", staff_views.staff_campaign_schedule, name="campaign_schedule"),
    path("<int:pk>/cancel/", staff_views.staff_campaign_cancel, name="campaign_cancel"),
]
