from django.urls import path

from backgroundmusic.accounts import staff_views

app_name = "staff"

urlpatterns = [
    path("", staff_views.people_list, name="people"),
    path("people/<int:user_id>/", staff_views.person_detail, name="person"),
    path("access-log/", staff_views.access_log, name="access_log"),
    path("access-log/verify/", staff_views.access_log_verify, name="access_log_verify"),
    path("audit/", staff_views.audit_log, name="audit_log"),
]
