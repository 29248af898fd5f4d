"""Licensing's public pages (views/), mounted at the site root: /pricing/, /cart/, /orders/,
/licences/, /verify/<id>/ and the payment providers' notifications."""

from django.urls import path

from backgroundmusic.licensing.views import coverage, pricing

app_name = "licensing"

urlpatterns: list = [
    # Plans on sale and the licence terms (views/pricing.py)
    path("pricing/", pricing.pricing, name="pricing"),
    path("pricing/<slug:code>/", pricing.pricing_plan, name="pricing_plan"),
    path("licence-terms/", pricing.licence_terms, name="terms"),
    path("licence-terms/<str:version>/", pricing.licence_terms_edition, name="terms_edition"),
    path("licences/<slug:number>/coverage/", coverage.coverage_page, name="coverage"),
    path(
        "licences/<slug:number>/coverage/channels/",
        coverage.channel_add,
        name="coverage_channel_add",
    ),
    path(
        "licences/<slug:number>/coverage/channels/<int:channel_id>/remove/",
        coverage.channel_remove,
        name="coverage_channel_remove",
    ),
    path("licences/<slug:number>/coverage/uses/", coverage.use_add, name="coverage_use_add"),
    path(
        "licences/<slug:number>/coverage/uses/<int:use_id>/remove/",
        coverage.use_remove,
        name="coverage_use_remove",
    ),
    path("licences/<slug:number>/letter.pdf", coverage.coverage_letter, name="coverage_letter"),
]
