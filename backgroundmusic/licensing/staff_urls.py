"""Licensing's staff pages (staff_views/), mounted at /staff/licensing/."""

from django.urls import path

from backgroundmusic.licensing.staff_views import agreements, orders, plans

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
    # checkout: orders, bank transfers, refunds, cancellations
    path("orders/", orders.staff_orders, name="orders"),
    path("orders/<str:public_id>/", orders.staff_order, name="order"),
    path("orders/<str:public_id>/confirm/", orders.staff_transfer_confirm, name="order_confirm"),
    path("orders/<str:public_id>/refund/", orders.staff_refund, name="order_refund"),
    path("orders/<str:public_id>/cancel/", orders.staff_order_cancel, name="order_cancel"),
]
