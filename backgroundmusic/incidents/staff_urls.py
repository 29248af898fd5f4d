"""The breach register's pages (staff_views.py), mounted at /staff/incidents/."""

from django.urls import path

from backgroundmusic.incidents import staff_views

app_name = "incidents_staff"

urlpatterns: list = [
    path("", staff_views.staff_incidents, name="incidents"),
    path("new/", staff_views.staff_incident_new, name="incident_new"),
    path("<int:pk>/", staff_views.staff_incident, name="incident"),
    path("<int:pk>/people/", staff_views.staff_incident_compute, name="incident_compute"),
    path("<int:pk>/letters/", staff_views.staff_letters_send, name="letters_send"),
    path("<int:pk>/notices/<slug:kind>/", staff_views.staff_notice_edit, name="notice_edit"),
    path("<int:pk>/notices/<slug:kind>/sent/", staff_views.staff_notice_sent, name="notice_sent"),
]
