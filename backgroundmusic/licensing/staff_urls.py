"""Licensing's staff pages (staff_views/), mounted at /staff/licensing/."""

from django.urls import path

from backgroundmusic.licensing.staff_views import agreements, plans

app_name = "licensing_staff"

urlpatterns: list = [
    # Plans and licence terms (staff_views/plans.py)
    path("plans/", plans.staff_plans, name="plans"),
    path("plans/new/", plans.staff_plan_new, name="plan_new"),
    path("plans/terms/new/", plans.staff_terms_edition_new, name="terms_edition_new"),
    path(
        "plans/<slug:code>/editions/new/",
        plans.staff_plan_edition_new,
        name="plan_edition_new",
    ),
    path("plans/<slug:code>/withdraw/", plans.staff_plan_withdraw, name="plan_withdraw"),
    path("plans/<slug:code>/offer/", plans.staff_plan_offer, name="plan_offer"),
    # licences: agreements, their history, revocation
    path("agreements/", agreements.staff_agreements, name="agreements"),
    path("agreements/<str:number>/", agreements.staff_agreement, name="agreement"),
]
