"""Licensing's staff pages (staff_views/), mounted at /staff/licensing/."""

from django.urls import path

from backgroundmusic.licensing.staff_views import agreements

app_name = "licensing_staff"

urlpatterns: list = [
    # licences: agreements, their history, revocation
    path("agreements/", agreements.staff_agreements, name="agreements"),
    path("agreements/<str:number>/", agreements.staff_agreement, name="agreement"),
]
