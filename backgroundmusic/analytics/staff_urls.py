"""/staff/analytics/: aggregate statistics and research exports."""

from django.urls import path

from backgroundmusic.analytics import staff_views

app_name = "analytics_staff"

urlpatterns = [
    path("", staff_views.dashboard, name="dashboard"),
    path("statistics.csv", staff_views.dashboard_csv, name="dashboard_csv"),
    path("research/", staff_views.research, name="research"),
    path("research/<int:export_id>.csv", staff_views.research_csv, name="research_csv"),
]
